"""One batch of duplicate detection against everything stored: merges, copy links, groups.

1. The same text twice in one outlet is one article under two URLs: the rows are merged.
2. Every other article gets a MinHash signature and LSH band keys; articles sharing a band key
   are compared, and copies (see :func:`pipeline.dedupe.copy_score`) are linked.
3. Syndication groups are the connected components of the links; every member points at the
   group's origin (``duplicate_of``), never along a chain, and groups are recomputed whenever a
   member changes, so a new, earlier copy re-points the whole group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from pipeline.dedupe import (
    BandIndex,
    Member,
    Signature,
    components,
    copy_score,
    duplicate_targets,
    signature,
)
from storage.dedupe_store import (
    ArticleRow,
    StoredSignature,
    article_rows,
    articles_with_text_hash,
    band_matches,
    group_members,
    group_times,
    linked_component,
    replace_bands,
    replace_links,
    save_signatures,
    set_duplicates,
    signatures,
)
from storage.merge import merge_articles


@dataclass(slots=True)
class SyndicationResult:
    """What a batch did: the surviving rows, merges, and articles whose group was recomputed."""

    rows: dict[int, ArticleRow]
    merged: list[tuple[int, int]] = field(default_factory=list)  # (kept, dropped)
    regrouped: set[int] = field(default_factory=set)
    links: int = 0
    repointed: int = 0


def process_batch(
    session: Session,
    rows: dict[int, ArticleRow],
    threshold: float,
    now: datetime,
    ready: Mapping[int, Signature] | None = None,
) -> SyndicationResult:
    """Merge, sign, link and regroup the articles of ``rows`` (new or changed).

    ``ready``: signatures already computed from the rows' current texts.
    """
    ready = ready or {}
    sigs = {a: ready.get(a) or signature(row.text) for a, row in rows.items()}
    merged = _merge_same_outlet(session, rows, sigs, now)
    if merged:
        kept = {keep for keep, _ in merged}
        rows = article_rows(session, (set(rows) | kept) - {drop for _, drop in merged})
        sigs = {a: sigs.get(a) or signature(row.text) for a, row in rows.items()}
    index = BandIndex(threshold)
    keys = {a: index.keys(sig) for a, sig in sigs.items()}
    links = _links(session, sigs, keys, threshold)  # before this batch is in the index
    stale = {
        a: index.keys(Signature.from_bytes(s.text_hash, s.minhash, s.shingles))
        for a, s in signatures(session, sigs).items()
    }
    save_signatures(
        session,
        [StoredSignature(a, s.text_hash, s.to_bytes(), s.shingles) for a, s in sigs.items()],
    )
    replace_bands(session, keys, stale)
    former = replace_links(session, sigs, links)
    seeds = group_members(session, set(sigs) | former)
    regrouped, repointed = _regroup(session, seeds)
    return SyndicationResult(rows, merged, regrouped, len(links), repointed)


def _merge_same_outlet(
    session: Session, rows: dict[int, ArticleRow], sigs: dict[int, Signature], now: datetime
) -> list[tuple[int, int]]:
    """Rows of one outlet with the same normalised text become one (the older is kept)."""
    stored = articles_with_text_hash(session, (s.text_hash for s in sigs.values()))
    by_hash: dict[str, set[int]] = {}
    for article_id, sig in sigs.items():
        by_hash.setdefault(sig.text_hash, set()).add(article_id)
    for text_hash, stored_ids in stored.items():
        by_hash.setdefault(text_hash, set()).update(stored_ids)
    candidates = {h: ids for h, ids in by_hash.items() if len(ids) > 1}
    if not candidates:
        return []
    others = {a for ids in candidates.values() for a in ids} - set(rows)
    known = {**rows, **article_rows(session, others)}
    merged: list[tuple[int, int]] = []
    dropped: set[int] = set()
    for text_hash, same_text in candidates.items():
        by_outlet: dict[int, list[ArticleRow]] = {}
        for article_id in same_text - dropped:
            row = known.get(article_id)
            if row is not None and (
                article_id not in sigs or sigs[article_id].text_hash == text_hash
            ):
                by_outlet.setdefault(row.outlet_id, []).append(row)
        for same in by_outlet.values():
            if len(same) < 2:
                continue
            keep, *rest = sorted(same, key=lambda r: (r.first_seen_at, r.id))
            for row in rest:
                merge_articles(session, keep.id, row.id, now)
                merged.append((keep.id, row.id))
                dropped.add(row.id)
    return merged


def _links(
    session: Session,
    sigs: dict[int, Signature],
    keys: dict[int, list[int]],
    threshold: float,
) -> dict[tuple[int, int], float]:
    """Copy links of the batch's articles, verified on their signatures.

    Candidates share a band key with a stored article (the persisted index) or with another
    article of the batch; the batch's own stale index rows (changed texts) are ignored.
    """
    matches = band_matches(session, (k for ks in keys.values() for k in ks))
    for article_id, ks in keys.items():
        for key in ks:
            matches.setdefault(key, []).append(article_id)
    candidates = {
        article_id: {other for key in ks for other in matches.get(key, ()) if other != article_id}
        for article_id, ks in keys.items()
    }
    missing = {o for others in candidates.values() for o in others} - set(sigs)
    # an article of the batch found under its old keys is judged on its new signature
    stored = {
        a: Signature.from_bytes(s.text_hash, s.minhash, s.shingles)
        for a, s in signatures(session, missing).items()
    }
    everything = {**stored, **sigs}
    links: dict[tuple[int, int], float] = {}
    for article_id, others in candidates.items():
        for other in others:
            pair = (min(article_id, other), max(article_id, other))
            if pair in links or other not in everything:
                continue
            score = copy_score(everything[article_id], everything[other], threshold)
            if score is not None:
                links[pair] = round(score, 4)
    return links


def _regroup(session: Session, seeds: set[int]) -> tuple[set[int], int]:
    """Recompute the groups of ``seeds`` from the links; returns members and re-pointed count."""
    nodes, edges = linked_component(session, seeds)
    times = group_times(session, nodes)
    groups = [
        [Member(a, *times[a]) for a in component if a in times]
        for component in components(nodes, edges)
    ]
    targets = duplicate_targets(g for g in groups if g)
    return set(times), set_duplicates(session, targets)
