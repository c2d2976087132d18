"""Automatic stories: cluster new articles by content and time, then show clusters as stories.

A cluster becomes a story (``Story.kind == "auto"``) once it holds at least two independent
reports (syndication groups) and at least two outlets; syndicated copies join the story through
their group. The story is named after its first report's headline and keeps that name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from pipeline.clusters import Clustering, Unit, cluster_batch
from pipeline.dedupe import Member, origin_of
from pipeline.terms import TermCounts, term_counts, vector
from storage.dedupe_store import ArticleRow, article_rows, get_mark, group_members, set_mark
from storage.models import Story
from storage.stories_store import (
    FeatureRow,
    add_document_frequencies,
    auto_stories,
    cluster_members,
    clustered_between,
    clusters_of,
    delete_stories,
    document_frequencies,
    features,
    repoint_clusters,
    save_features,
    set_clusters,
    set_story_members,
    unique_story_name,
)

MIN_REPORTS = 2
MIN_OUTLETS = 2
NAME_LENGTH = 120
DOCUMENTS_MARK = "story-documents"


@dataclass(slots=True)
class ClusterUpdate:
    touched: set[int] = field(default_factory=set)
    clustering: Clustering = field(default_factory=Clustering)


def update_clusters(
    session: Session,
    rows: dict[int, ArticleRow],
    threshold: float,
    window: timedelta,
    ready: Mapping[int, TermCounts] | None = None,
) -> ClusterUpdate:
    """Store term vectors of ``rows`` and cluster those not clustered yet.

    ``ready``: term counts already computed from the rows' current state.
    """
    existing = features(session, rows)
    ready = ready or {}
    counts = {a: ready.get(a) or term_counts(r.title, r.text, r.language) for a, r in rows.items()}
    fresh = [a for a in rows if a not in existing]
    add_document_frequencies(session, Counter(t for a in fresh for t in counts[a].counts))
    documents = get_mark(session, DOCUMENTS_MARK) + len(fresh)
    set_mark(session, DOCUMENTS_MARK, documents)
    df = document_frequencies(session, {t for c in counts.values() for t in c.counts})
    vectors = {a: vector(counts[a], df, documents) for a in rows}
    save_features(
        session,
        [
            FeatureRow(a, r.event_at, vectors[a], existing[a].cluster_id if a in existing else None)
            for a, r in rows.items()
        ],
    )
    update = ClusterUpdate(touched={f.cluster_id for f in existing.values() if f.cluster_id})
    new = [Unit(a, r.event_at.timestamp(), vectors[a]) for a, r in rows.items()
           if a not in existing or existing[a].cluster_id is None]  # fmt: skip
    if not new:
        return update
    start = min(rows[u.id].event_at for u in new) - window
    end = max(rows[u.id].event_at for u in new) + window
    new_ids = {u.id for u in new}
    known = [
        Unit(f.article_id, f.event_at.timestamp(), f.terms, f.cluster_id)
        for f in clustered_between(session, start, end)
        if f.article_id not in new_ids
    ]
    update.clustering = cluster_batch(known, new, threshold, window.total_seconds())
    set_clusters(session, update.clustering.assigned)
    repoint_clusters(session, update.clustering.merged)
    update.touched |= set(update.clustering.assigned.values())
    update.touched = {update.clustering.final(c) for c in update.touched}
    return update


def refresh_stories(session: Session, clusters: set[int], merged: dict[int, int]) -> int:
    """Create, update or delete the auto stories of ``clusters``; returns stories touched."""
    final = Clustering(merged=merged).final
    clusters = {final(c) for c in clusters}
    stories = _carry_over(session, auto_stories(session, clusters | set(merged)), merged, final)
    members = cluster_members(session, clusters)
    # a lone article makes no story: only clusters of two or more, or with a story to update
    relevant = {c: members.get(c, []) for c in clusters if len(members.get(c, [])) >= 2}
    relevant.update({c: members.get(c, []) for c in stories if c in clusters})
    rows = article_rows(
        session,
        group_members(session, {a for ids in relevant.values() for a in ids}),
        with_text=False,
    )
    groups: dict[int, set[int]] = {}
    for row in rows.values():
        groups.setdefault(row.duplicate_of_id or row.id, set()).add(row.id)
    for cluster, ids in relevant.items():
        reports = {rows[a].duplicate_of_id or a for a in ids if a in rows}
        expanded = {m for origin in reports for m in groups.get(origin, {origin})}
        _refresh(session, cluster, reports, {a: rows[a] for a in expanded if a in rows},
                 stories.get(cluster))  # fmt: skip
    return len(relevant)


def _carry_over(
    session: Session,
    stories: dict[int, Story],
    merged: dict[int, int],
    final: Callable[[int], int],
) -> dict[int, Story]:
    """Stories of absorbed clusters move to the absorbing cluster (the oldest story wins)."""
    for absorbed in sorted(merged):
        story = stories.pop(absorbed, None)
        if story is None:
            continue
        target = final(absorbed)
        current = stories.get(target)
        if current is None or story.id < current.id:
            if current is not None:
                delete_stories(session, [current.id])
            story.cluster_id = target
            stories[target] = story
        else:
            delete_stories(session, [story.id])
    session.flush()
    return stories


def _refresh(
    session: Session,
    cluster: int,
    reports: set[int],
    rows: dict[int, ArticleRow],
    story: Story | None,
) -> None:
    outlets = {r.outlet for r in rows.values()}
    if len(reports) < MIN_REPORTS or len(outlets) < MIN_OUTLETS:
        if story is not None:
            delete_stories(session, [story.id])
        return
    if story is None:
        first = origin_of(Member(r.id, r.published_at, r.first_seen_at) for r in rows.values())
        title = rows[first.id].title or f"Story {cluster}"
        story = Story(
            name=unique_story_name(session, _shorten(title)), kind="auto", cluster_id=cluster
        )
        session.add(story)
        session.flush()
    set_story_members(session, story.id, rows)


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    if len(title) <= NAME_LENGTH:
        return title
    return title[:NAME_LENGTH].rsplit(" ", 1)[0] + "…"


def touched_by(session: Session, article_ids: set[int]) -> set[int]:
    """Clusters holding any of ``article_ids``."""
    return set(clusters_of(session, article_ids).values())
