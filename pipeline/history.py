"""How a fetch changes an article's history: new article, new version, or just a check.

Runs inside the caller's transaction. The decisions (what is a real change, when to look
again) live in :mod:`pipeline.versions`; this module applies them to storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline.diffs import VersionText, summarise_change
from pipeline.features import PreparedFeatures
from pipeline.repeated_lines import comparable_text
from pipeline.versions import Content, content_hash, judge, next_check
from storage.models import Article
from storage.pending_features import StoredFeatures, save_pending_features
from storage.repository import (
    ArticleSnapshot,
    ChangeStats,
    NewArticle,
    add_event,
    add_version,
    age_origin,
    create_article,
    create_articles,
    find_article,
    first_texts_since,
    mark_removed,
    move_article_url,
    record_check,
    replace_first_text,
    stored_times,
    url_owners,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

    from pipeline.extraction.boilerplate import BoilerplateRule


logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one fetch did: ``kind`` is new-article, new-version, unchanged, rejected,
    flip-flop, not-modified, removed or unknown."""

    kind: str
    article_id: int | None = None
    version: int | None = None
    reason: str | None = None


def record_page(
    session: Session,
    snapshot: ArticleSnapshot,
    schedule: Sequence[tuple[timedelta, timedelta]],
    repeated_lines: BoilerplateRule | None = None,
    features: PreparedFeatures | None = None,
) -> Outcome:
    """Store an extracted page: a new article, a new version, or a check without change.

    ``repeated_lines``: the outlet's repeated lines, already removed from the snapshot's text,
    are removed from the stored text too before the two are compared: a line the outlet's
    window learned since the last version is not an edit. ``features``: the snapshot's
    features for post-processing, kept if its text is stored.
    """
    article = find_article(session, [snapshot.url, *snapshot.aliases])
    candidate = Content(snapshot.title, snapshot.text, tuple(snapshot.authors))
    if article is None:
        verdict = judge(None, candidate)
        if verdict.kind == "rejected":
            return Outcome("rejected", reason=verdict.reason)
        at = snapshot.fetched_at
        article = create_article(
            session, snapshot, next_check_at=next_check(schedule, at, at), urls_unowned=True
        )
        add_version(session, article, snapshot, ChangeStats(), first=True)
        if features is not None:
            store_features(session, [(article.id, features)], new=True)
        return Outcome("new-article", article.id, 1)
    if _moved(article.url, snapshot):
        move_article_url(session, article, snapshot.url, snapshot.fetched_at)
    stored_text = comparable_text(article.text, repeated_lines)
    previous = Content(article.title, stored_text, tuple(article.authors or ()))
    times = stored_times(session, article.id, candidate.hash)
    verdict = judge(previous, candidate, times)
    if verdict.kind == "new":
        version = add_version(session, article, snapshot, _stats(previous, candidate))
        _checked(session, article, snapshot, schedule, changed=True)
        if features is not None:
            store_features(session, [(article.id, features)])
        return Outcome("new-version", article.id, version.number)
    if verdict.kind != "unchanged":
        add_event(session, article.id, verdict.kind, verdict.reason, snapshot.fetched_at)
    _checked(session, article, snapshot, schedule, changed=False)
    return Outcome(verdict.kind, article.id, reason=verdict.reason)


def _moved(stored_url: str, snapshot: ArticleSnapshot) -> bool:
    """The page, fetched from the article's stored URL, now names another URL its own: a
    slug changed with a redirect, or a new declared canonical. Never the outlet's home page."""
    if snapshot.url == stored_url or stored_url not in snapshot.aliases:
        return False
    return urlsplit(snapshot.url).path not in ("", "/")


def record_pages(
    session: Session,
    snapshots: Sequence[ArticleSnapshot],
    schedule: Sequence[tuple[timedelta, timedelta]],
    repeated_lines: Sequence[BoilerplateRule | None] = (),
    features: Sequence[PreparedFeatures | None] = (),
) -> list[Outcome]:
    """:func:`record_page` for many pages at once, with the same outcomes and rows.

    Pages no stored URL points at (most of a first crawl) are created together in a few
    statements; the rest (known articles, URLs shared within the batch) go one by one after.
    """
    owners = url_owners(session, (u for s in snapshots for u in (s.url, *s.aliases)))
    outcomes: list[Outcome | None] = [None] * len(snapshots)
    new: list[tuple[int, NewArticle]] = []
    later: list[int] = []
    claimed: set[str] = set()
    for index, snapshot in enumerate(snapshots):
        urls = {snapshot.url, *snapshot.aliases}
        if any(u in owners or u in claimed for u in urls):
            later.append(index)  # its URLs stay claimed: a later page must not take them first
            claimed |= urls
            continue
        verdict = judge(None, Content(snapshot.title, snapshot.text, tuple(snapshot.authors)))
        if verdict.kind == "rejected":
            outcomes[index] = Outcome("rejected", reason=verdict.reason)
            continue
        claimed |= urls
        at = snapshot.fetched_at
        new.append((index, NewArticle(snapshot, next_check(schedule, at, at))))
    ids = create_articles(session, [item for _, item in new])
    for (index, _), article_id in zip(new, ids, strict=True):
        outcomes[index] = Outcome("new-article", article_id, 1)
    store_features(
        session,
        [(a, features[i]) for (i, _), a in zip(new, ids, strict=True) if features and features[i]],
        new=True,
    )
    for index in later:
        rule = repeated_lines[index] if repeated_lines else None
        prepared = features[index] if features else None
        outcomes[index] = record_page(session, snapshots[index], schedule, rule, prepared)
    return [outcome for outcome in outcomes if outcome is not None]


def refilter_first_texts(
    session: Session, rules: Mapping[str, BoilerplateRule], since: datetime
) -> int:
    """Remove the outlets' repeated lines from articles first stored since ``since`` that
    still have one version: those stored before their outlet's window had learned the lines
    (the first pages of a first crawl) kept them. Returns how many texts changed.

    Their pending features no longer match the text, so post-processing computes them again.
    """
    changed = []
    for first in first_texts_since(session, rules, since):
        text = rules[first.outlet].filter(first.text)
        if text != first.text:
            changed.append((first.article_id, text, content_hash(first.title, text, first.authors)))
    for article_id, text, digest in changed:
        replace_first_text(session, article_id, text, digest)
    return len(changed)


def store_features(
    session: Session, prepared: Iterable[tuple[int, PreparedFeatures]], *, new: bool = False
) -> None:
    """Keep the prepared features of newly stored texts for the next post-processing run
    (``new``: of articles just created)."""
    rows = [
        StoredFeatures(a, f.digest, f.text_hash, f.minhash, f.shingles, f.terms)
        for a, f in prepared
    ]
    save_pending_features(session, rows, new_articles=new)


def record_unchanged_body(
    session: Session,
    article_id: int,
    fetched_at: datetime,
    schedule: Sequence[tuple[timedelta, timedelta]],
    *,
    not_modified: bool,
) -> Outcome:
    """A 304, or a body byte-identical to the last one: only the check is recorded.

    Most such rechecks never get here: the store pipeline writes their check times with the
    fetch log (``StoreArticlePipeline._unchanged_recheck``). This is the path for the rest, a
    removed article that answers again among them (its reappearance becomes an event).
    """
    article = _article(session, article_id)
    if article is None:
        return Outcome("unknown", article_id)
    record_check(
        session,
        article,
        None,
        checked_at=fetched_at,
        next_check_at=_next(schedule, article, fetched_at),
    )
    return Outcome("not-modified" if not_modified else "unchanged", article_id)


def record_gone(
    session: Session, article_id: int, fetched_at: datetime, status: int, reason: str | None = None
) -> Outcome:
    """404/410, or a page that says the article is gone (``reason``): mark the article
    removed; keep checking on its schedule to see it return."""
    article = _article(session, article_id)
    if article is None:
        return Outcome("unknown", article_id)
    mark_removed(session, article, fetched_at, status, reason)
    return Outcome("removed", article_id, reason=reason or f"HTTP {status}")


def record_failed_extraction(
    session: Session, article_id: int, fetched_at: datetime, reason: str
) -> None:
    add_event(session, article_id, "rejected", reason, fetched_at)


def _checked(
    session: Session,
    article: Article,
    snapshot: ArticleSnapshot,
    schedule: Sequence[tuple[timedelta, timedelta]],
    *,
    changed: bool,
) -> None:
    at = snapshot.fetched_at
    if changed:
        article.last_changed_at = at
    record_check(
        session, article, snapshot, checked_at=at, next_check_at=_next(schedule, article, at)
    )


def _next(
    schedule: Sequence[tuple[timedelta, timedelta]], article: Article, now: datetime
) -> datetime | None:
    return next_check(schedule, now, age_origin(article.last_changed_at, article.first_seen_at))


def _stats(previous: Content, candidate: Content) -> ChangeStats:
    summary = summarise_change(
        VersionText(previous.title, previous.text, previous.authors),
        VersionText(candidate.title, candidate.text, candidate.authors),
    )
    return ChangeStats(
        words_added=summary.words_added,
        words_removed=summary.words_removed,
        title_changed=summary.title_changed,
        labels=summary.labels,
    )


def _article(session: Session, article_id: int) -> Article | None:
    return session.get(Article, article_id)
