"""What ``newsmon stories`` shows: each story's outlets and its articles as a timeline.

Functions take a Session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.dedupe_store import chunked
from storage.models import Article, ArticleStory, Outlet, Story, Version


@dataclass(frozen=True, slots=True)
class StoryArticle:
    id: int
    outlet: str
    url: str
    title: str
    original_title: str
    published_at: datetime | None
    first_seen_at: datetime
    versions: int
    duplicate_of: int | None
    copies: tuple[int, ...] = ()

    @property
    def at(self) -> datetime:
        return self.published_at or self.first_seen_at


@dataclass(slots=True)
class StoryReport:
    id: int
    name: str
    kind: str
    query: str | None
    articles: list[StoryArticle] = field(default_factory=list)

    @property
    def outlets(self) -> list[str]:
        """Outlets in the order they first covered the story."""
        return list(dict.fromkeys(a.outlet for a in self.articles))

    def to_json(self) -> dict[str, Any]:
        first = self.articles[0] if self.articles else None
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "query": self.query,
            "outlets": self.outlets,
            "first": None if first is None else {"id": first.id, "outlet": first.outlet},
            "articles": [
                {
                    "id": a.id,
                    "outlet": a.outlet,
                    "url": a.url,
                    "title": a.title,
                    "original_title": a.original_title,
                    "published_at": _iso(a.published_at),
                    "first_seen_at": _iso(a.first_seen_at),
                    "versions": a.versions,
                    "duplicate_of": a.duplicate_of,
                    "copies": list(a.copies),
                }
                for a in self.articles
            ],
        }


def find_story(session: Session, ref: str) -> Story | None:
    """A story by exact name, else case-insensitive name, else id."""
    story = session.scalar(select(Story).where(Story.name == ref))
    if story is None:
        story = session.scalar(select(Story).where(func.lower(Story.name) == ref.lower()))
    if story is None and ref.strip().isdigit():
        story = session.get(Story, int(ref))
    return story


def story_reports(session: Session, stories: list[Story] | None = None) -> list[StoryReport]:
    """Reports of ``stories`` (default: all; configured ones first, then the newest auto)."""
    if stories is None:
        stories = list(session.scalars(select(Story)))
    reports = {s.id: StoryReport(s.id, s.name, s.kind, s.query) for s in stories}
    links = _links(session, list(reports))
    articles = _articles(session, {a for ids in links.values() for a in ids})
    for story_id, ids in links.items():
        members = [articles[a] for a in ids if a in articles]
        reports[story_id].articles = sorted(members, key=lambda a: (a.at, a.first_seen_at, a.id))
    return sorted(reports.values(), key=_order)


def _order(report: StoryReport) -> tuple[int, float, str]:
    newest = max((a.at.timestamp() for a in report.articles), default=0.0)
    return (
        0 if report.kind == "configured" else 1,
        -newest if report.kind != "configured" else 0,
        report.name,
    )


def _links(session: Session, story_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {s: [] for s in story_ids}
    for batch in chunked(story_ids):
        statement = select(ArticleStory.story_id, ArticleStory.article_id).where(
            ArticleStory.story_id.in_(batch)
        )
        for story_id, article_id in session.execute(statement):
            found[story_id].append(article_id)
    return found


def _articles(session: Session, ids: set[int]) -> dict[int, StoryArticle]:
    rows: dict[int, Any] = {}
    counts: dict[int, int] = {}
    originals: dict[int, str] = {}
    copies: dict[int, list[int]] = {}
    for batch in chunked(ids):
        statement = (
            select(
                Article.id, Outlet.name, Article.url, Article.title, Article.published_at,
                Article.first_seen_at, Article.duplicate_of_id,
            )
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(Article.id.in_(batch))
        )  # fmt: skip
        rows.update((row[0], row) for row in session.execute(statement))
        counts.update(
            session.execute(
                select(Version.article_id, func.count())
                .where(Version.article_id.in_(batch))
                .group_by(Version.article_id)
            ).all()
        )
        originals.update(
            session.execute(
                select(Version.article_id, Version.title).where(
                    Version.article_id.in_(batch), Version.number == 1
                )
            ).all()
        )
        for copy_id, origin in session.execute(
            select(Article.id, Article.duplicate_of_id).where(Article.duplicate_of_id.in_(batch))
        ):
            if origin is not None:
                copies.setdefault(origin, []).append(copy_id)
    return {
        a: StoryArticle(
            id=a,
            outlet=row[1],
            url=row[2],
            title=row[3],
            original_title=originals.get(a, row[3]),
            published_at=row[4],
            first_seen_at=row[5],
            versions=counts.get(a, 0),
            duplicate_of=row[6],
            copies=tuple(sorted(copies.get(a, ()))),
        )
        for a, row in rows.items()
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
