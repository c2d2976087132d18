"""Configured stories (``[[stories]]``): articles matched by the search query language.

A story matches an article's title and latest text with :func:`storage.query.matches` (the same
words, phrases, AND/OR/NOT and prefixes as ``newsmon search``), optionally only for some outlets
and a date window (published, else first seen). Syndicated copies count via their group: when
one copy matches, every copy that passes the story's outlet and date limits joins the story (a
trimmed copy may have lost the matching paragraph).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.config import StoryConfig
from storage.dedupe_store import ArticleRow, article_rows, group_members
from storage.models import Story
from storage.query import Query, matches, parse_query
from storage.stories_store import (
    configured_stories,
    delete_stories,
    iter_article_texts,
    replace_links_for,
    set_story_members,
)


@dataclass(frozen=True, slots=True)
class StoryRule:
    """A configured story ready to match: parsed query and limits."""

    story_id: int
    name: str
    query: Query
    outlets: frozenset[str]
    since: datetime | None
    until: datetime | None

    def admits(self, outlet: str, at: datetime) -> bool:
        """Within the story's outlets and date window."""
        if self.outlets and outlet.casefold() not in self.outlets:
            return False
        if self.since and at < self.since:
            return False
        return not (self.until and at > self.until)

    def matches(self, title: str, text: str) -> bool:
        return matches(self.query, title, text)


def spec_of(story: StoryConfig) -> str:
    """What a configured story's links depend on; a change means matching everything again."""
    return json.dumps(
        [story.query, sorted(o.casefold() for o in story.outlets), story.since, story.until]
    )


def sync_configured(
    session: Session, stories: Sequence[StoryConfig]
) -> tuple[list[StoryRule], list[StoryRule]]:
    """Make the configured stories exist as configured (deleting ones no longer configured).

    Returns:
        All rules, and those whose spec changed (to be matched against every article).
    """
    existing = {s.name: s for s in configured_stories(session)}
    wanted = {s.name for s in stories}
    delete_stories(session, [s.id for name, s in existing.items() if name not in wanted])
    rules, changed = [], []
    for config in stories:
        story = existing.get(config.name) or session.scalar(
            select(Story).where(Story.name == config.name)
        )
        if story is not None and story.kind == "auto":
            # a configured story named like an automatic one (a user promoting it): the
            # automatic story keeps its cluster under another name, and comes back to view
            # when the configured one is removed
            story.name = _free_name(session, f"{config.name} (automatic)")
            session.flush()
            story = None
        if story is None:
            story = Story(name=config.name, query=config.query, kind="configured")
            session.add(story)
            session.flush()
        rule = _rule(story.id, config)
        rules.append(rule)
        spec = spec_of(config)
        if story.matched_spec != spec or story.kind != "configured":
            story.kind, story.query, story.matched_spec = "configured", config.query, spec
            story.cluster_id = None
            changed.append(rule)
    session.flush()
    return rules, changed


def _free_name(session: Session, name: str) -> str:
    """``name``, or ``name 2``, ``name 3``…: the first no story has."""
    candidate, number = name, 1
    while session.scalar(select(Story.id).where(Story.name == candidate)) is not None:
        number += 1
        candidate = f"{name} {number}"
    return candidate


def _rule(story_id: int, config: StoryConfig) -> StoryRule:
    return StoryRule(
        story_id=story_id,
        name=config.name,
        query=parse_query(config.query),
        outlets=frozenset(o.casefold() for o in config.outlets),
        since=_date(config.since, end_of_day=False),
        until=_date(config.until, end_of_day=True),
    )


def _date(value: str | None, *, end_of_day: bool) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if end_of_day and len(value) <= 10:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def match_articles(session: Session, rules: Sequence[StoryRule], article_ids: Iterable[int]) -> int:
    """Re-match ``article_ids`` (closed under syndication groups) against every rule.

    Returns:
        The number of (article, story) links now held by these articles.
    """
    ids = group_members(session, article_ids)
    if not rules or not ids:
        return 0
    rows = article_rows(session, ids)
    groups = _groups(rows.values())
    links = set()
    for rule in rules:
        direct = {a for a, r in rows.items() if rule.matches(r.title, r.text)}
        links |= _with_copies(rule, direct, rows, groups)
    replace_links_for(session, [r.story_id for r in rules], rows, links)
    return len(links)


def rematch_story(session: Session, rule: StoryRule) -> int:
    """Match one story against every article (its query or limits changed)."""
    direct: set[int] = set()
    for batch in iter_article_texts(session):
        direct.update(a for a, _, title, text, _, _ in batch if rule.matches(title, text))
    members = group_members(session, direct)
    rows = article_rows(session, members)
    links = _with_copies(rule, direct, rows, _groups(rows.values()))
    set_story_members(session, rule.story_id, (a for a, _ in links))
    return len(links)


def _groups(rows: Iterable[ArticleRow]) -> dict[int, int]:
    """Article id -> its group's origin id."""
    return {r.id: r.duplicate_of_id or r.id for r in rows}


def _with_copies(
    rule: StoryRule, direct: set[int], rows: dict[int, ArticleRow], groups: dict[int, int]
) -> set[tuple[int, int]]:
    """Direct matches plus their group mates, all within the rule's outlets and dates."""
    matched_groups = {groups.get(a, a) for a in direct}
    return {
        (a, rule.story_id)
        for a, row in rows.items()
        if (a in direct or groups[a] in matched_groups) and rule.admits(row.outlet, row.event_at)
    }
