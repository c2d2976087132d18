"""Merge two article rows of one outlet that turned out to be the same article under two URLs.

The older row is kept. The other row's URLs become aliases of it; its versions join the kept
history in fetch order, except states the kept history already has (a text is never stored
twice); its story links, events and fetches move over; an ``ArticleEvent`` records the merge.
Functions take a Session and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.blobs import DELTA, pack
from storage.models import Article, ArticleStory, ArticleUrl, Fetch, Version
from storage.repository import add_aliases, add_event, version_content
from storage.search import index_article, remove_from_index


def merge_articles(session: Session, keep_id: int, drop_id: int, at: datetime) -> None:
    """Fold article ``drop_id`` into ``keep_id`` and delete it."""
    keep = session.get(Article, keep_id)
    drop = session.get(Article, drop_id)
    if keep is None or drop is None or keep_id == drop_id:
        return
    urls = [drop.url, *(u.url for u in drop.urls)]
    moved = _movable_versions(session, keep, drop)
    _move_links(session, keep, drop)
    session.execute(update(Fetch).where(Fetch.article_id == drop.id).values(article_id=keep.id))
    session.execute(
        update(Article).where(Article.duplicate_of_id == drop.id).values(duplicate_of_id=None)
    )
    keep.first_seen_at = min(keep.first_seen_at, drop.first_seen_at)
    keep.published_at = _earliest(keep.published_at, drop.published_at)
    detail = f"article {drop.id} ({drop.url}) merged in: same text under another URL"
    remove_from_index(session, drop.id)
    session.delete(drop)
    session.flush()
    add_aliases(session, keep, urls)
    _interleave(session, keep, moved)
    add_event(session, keep.id, "merged", detail, at)
    session.flush()
    index_article(session, keep.id, keep.title, keep.text)


def _movable_versions(session: Session, keep: Article, drop: Article) -> list[Version]:
    """``drop``'s versions whose content ``keep`` never had, detached and made standalone."""
    known = {v.content_hash for v in keep.versions}
    moved = []
    for version in drop.versions:
        if version.content_hash in known:
            continue
        text, raw = version_content(session, version)
        packed = pack(text, raw, None)
        moved.append(
            Version(
                fetched_at=version.fetched_at,
                title=version.title,
                text_blob=packed.text,
                raw_html=packed.raw,
                codec=packed.codec,
                base_number=None,
                stored_bytes=packed.size,
                authors=list(version.authors or []),
                content_hash=version.content_hash,
                raw_content_type=version.raw_content_type,
                words_added=version.words_added,
                words_removed=version.words_removed,
                title_changed=version.title_changed,
                labels=list(version.labels or []),
            )
        )
        known.add(version.content_hash)
    return moved


def _move_links(session: Session, keep: Article, drop: Article) -> None:
    """Story links and events of ``drop`` now belong to ``keep``."""
    linked = set(
        session.scalars(select(ArticleStory.story_id).where(ArticleStory.article_id == keep.id))
    )
    for link in list(drop.stories):
        if link.story_id not in linked:
            session.add(ArticleStory(article_id=keep.id, story_id=link.story_id))
    for event in list(drop.events):
        event.article_id = keep.id
    session.execute(
        update(ArticleUrl).where(ArticleUrl.article_id == drop.id).values(article_id=keep.id)
    )
    session.flush()
    session.expire(drop)


def _interleave(session: Session, keep: Article, moved: list[Version]) -> None:
    """One history in fetch order; delta versions keep pointing at their (renumbered) keyframe."""
    if not moved:
        return
    own = list(keep.versions)
    ordered = sorted([*own, *moved], key=lambda v: (v.fetched_at, v.number or 0))
    numbers = {id(v): n for n, v in enumerate(ordered, start=1)}
    old_to_new = {v.number: numbers[id(v)] for v in own}
    for version in own:  # two steps: (article_id, number) is unique at every flush
        version.number = -version.number
    session.flush()
    for version in own:
        version.number = numbers[id(version)]
        if version.codec == DELTA and version.base_number is not None:
            version.base_number = old_to_new[version.base_number]
    for version in moved:
        version.number = numbers[id(version)]
        keep.versions.append(version)
    session.flush()
    latest = ordered[-1]
    keep.title = latest.title
    keep.authors = list(latest.authors or [])
    if latest in moved:
        keep.text = version_content(session, latest)[0]


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if a or b else None
