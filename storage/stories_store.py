"""Reads and writes of stories: term vectors and clusters, document frequencies, story links.

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.db import is_sqlite
from storage.dedupe_store import chunked, table_of
from storage.models import Article, ArticleStory, Outlet, Story, StoryFeature, StoryTerm


@dataclass(frozen=True, slots=True)
class FeatureRow:
    article_id: int
    event_at: datetime
    terms: dict[str, float]
    cluster_id: int | None


# --- term vectors and clusters -------------------------------------------------------------


def features(session: Session, ids: Iterable[int]) -> dict[int, FeatureRow]:
    found: dict[int, FeatureRow] = {}
    for batch in chunked(ids):
        statement = select(
            StoryFeature.article_id,
            StoryFeature.event_at,
            StoryFeature.terms,
            StoryFeature.cluster_id,
        ).where(StoryFeature.article_id.in_(batch))
        found.update((row[0], FeatureRow(*row)) for row in session.execute(statement))
    return found


def save_features(session: Session, rows: Iterable[FeatureRow]) -> None:
    rows = list(rows)
    for batch in chunked([r.article_id for r in rows]):
        session.execute(delete(StoryFeature).where(StoryFeature.article_id.in_(batch)))
    if rows:
        session.execute(
            insert(table_of(StoryFeature)),
            [
                {
                    "article_id": r.article_id,
                    "event_at": r.event_at,
                    "terms": r.terms,
                    "cluster_id": r.cluster_id,
                }
                for r in rows
            ],
        )


def clustered_between(session: Session, start: datetime, end: datetime) -> list[FeatureRow]:
    """Clustered articles whose event time lies in ``[start, end]``."""
    statement = select(
        StoryFeature.article_id, StoryFeature.event_at, StoryFeature.terms, StoryFeature.cluster_id
    ).where(
        StoryFeature.event_at >= start,
        StoryFeature.event_at <= end,
        StoryFeature.cluster_id.is_not(None),
    )
    return [FeatureRow(*row) for row in session.execute(statement)]


def set_clusters(session: Session, clusters: Mapping[int, int]) -> None:
    if not clusters:
        return
    table = table_of(StoryFeature)
    session.execute(
        update(table)
        .where(table.c.article_id == bindparam("b_id"))
        .values(cluster_id=bindparam("b_cluster")),
        [{"b_id": a, "b_cluster": c} for a, c in clusters.items()],
    )


def repoint_clusters(session: Session, merged: Mapping[int, int]) -> None:
    """Members of each absorbed cluster now belong to the cluster that absorbed it."""
    for absorbed, target in merged.items():
        session.execute(
            update(StoryFeature)
            .where(StoryFeature.cluster_id == absorbed)
            .values(cluster_id=target)
        )


def clusters_of(session: Session, ids: Iterable[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for batch in chunked(ids):
        statement = select(StoryFeature.article_id, StoryFeature.cluster_id).where(
            StoryFeature.article_id.in_(batch), StoryFeature.cluster_id.is_not(None)
        )
        found.update((a, c) for a, c in session.execute(statement) if c is not None)
    return found


def cluster_members(session: Session, clusters: Iterable[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for batch in chunked(clusters):
        statement = select(StoryFeature.cluster_id, StoryFeature.article_id).where(
            StoryFeature.cluster_id.in_(batch)
        )
        for cluster, article_id in session.execute(statement):
            if cluster is not None:
                found.setdefault(cluster, []).append(article_id)
    return found


# --- document frequencies ------------------------------------------------------------------


def document_frequencies(session: Session, terms: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in chunked(set(terms)):
        statement = select(StoryTerm.term, StoryTerm.df).where(StoryTerm.term.in_(batch))
        found.update((t, df) for t, df in session.execute(statement))
    return found


def add_document_frequencies(session: Session, counts: Mapping[str, int]) -> None:
    """``df += count`` per term (one upsert per term, batched)."""
    if not counts:
        return
    make = sqlite_insert if is_sqlite(session) else pg_insert
    table = table_of(StoryTerm)
    statement = make(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.term], set_={"df": table.c.df + statement.excluded.df}
    )
    rows = [{"term": term[:100], "df": count} for term, count in counts.items()]
    for batch in chunked(rows, 5000):
        session.execute(statement, batch)


# --- stories and their links ---------------------------------------------------------------


def configured_stories(session: Session) -> list[Story]:
    return list(session.scalars(select(Story).where(Story.kind == "configured")))


def auto_stories(session: Session, clusters: Iterable[int]) -> dict[int, Story]:
    found: dict[int, Story] = {}
    for batch in chunked(clusters):
        for story in session.scalars(select(Story).where(Story.cluster_id.in_(batch))):
            assert story.cluster_id is not None
            found[story.cluster_id] = story
    return found


def unique_story_name(session: Session, base: str) -> str:
    """``base``, or ``base (2)``, ``base (3)``… when another story has that name."""
    base = " ".join(base.split())[:280] or "Untitled story"
    taken = set(
        session.scalars(select(Story.name).where(Story.name.like(_escape_like(base) + "%", "\\")))
    )
    if base not in taken:
        return base
    number = 2
    while f"{base} ({number})" in taken:
        number += 1
    return f"{base} ({number})"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def story_article_ids(session: Session, story_id: int) -> set[int]:
    return set(
        session.scalars(select(ArticleStory.article_id).where(ArticleStory.story_id == story_id))
    )


def set_story_members(session: Session, story_id: int, article_ids: Iterable[int]) -> None:
    """Make ``article_ids`` exactly the story's articles."""
    wanted = set(article_ids)
    current = story_article_ids(session, story_id)
    gone = current - wanted
    for batch in chunked(gone):
        session.execute(
            delete(ArticleStory).where(
                ArticleStory.story_id == story_id, ArticleStory.article_id.in_(batch)
            )
        )
    added = wanted - current
    if added:
        session.execute(
            insert(table_of(ArticleStory)),
            [{"article_id": a, "story_id": story_id} for a in sorted(added)],
        )


def replace_links_for(
    session: Session,
    story_ids: Iterable[int],
    article_ids: Iterable[int],
    links: set[tuple[int, int]],
) -> None:
    """For these articles and stories, keep exactly ``links`` ((article_id, story_id) pairs)."""
    stories = list(story_ids)
    articles = list(article_ids)
    if not stories or not articles:
        return
    current: set[tuple[int, int]] = set()
    for batch in chunked(articles):
        statement = select(ArticleStory.article_id, ArticleStory.story_id).where(
            ArticleStory.article_id.in_(batch), ArticleStory.story_id.in_(stories)
        )
        current.update((a, s) for a, s in session.execute(statement))
    for article_id, story_id in current - links:
        session.execute(
            delete(ArticleStory).where(
                ArticleStory.article_id == article_id, ArticleStory.story_id == story_id
            )
        )
    added = links - current
    if added:
        session.execute(
            insert(table_of(ArticleStory)),
            [{"article_id": a, "story_id": s} for a, s in sorted(added)],
        )


def delete_stories(session: Session, story_ids: Iterable[int]) -> None:
    for batch in chunked(story_ids):
        session.execute(delete(ArticleStory).where(ArticleStory.story_id.in_(batch)))
        session.execute(delete(Story).where(Story.id.in_(batch)))


def iter_article_texts(
    session: Session, batch: int = 1000
) -> Iterable[list[tuple[int, str, str, str, Any, datetime]]]:
    """(id, outlet name, title, text, published_at, first_seen_at) of all articles, in batches."""
    last = 0
    while True:
        rows = session.execute(
            select(
                Article.id,
                Outlet.name,
                Article.title,
                Article.text,
                Article.published_at,
                Article.first_seen_at,
            )
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(Article.id > last)
            .order_by(Article.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield [tuple(r) for r in rows]  # type: ignore[misc]
        last = rows[-1][0]
