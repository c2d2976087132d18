"""Duplicate text detection: exact-text keys, MinHash signatures and LSH band keys.

Pure functions, no database: :mod:`pipeline.postprocess` stores what they compute. A copy of a
wire story is recognised by word-shingle overlap, estimated from MinHash signatures: high
Jaccard similarity, or a shorter text almost wholly contained in a longer one (a trimmed copy).
Two articles about one event written in different words share few 5-word runs, so they are
never copies (precision first).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from pipeline.minhash import (
    NUM_PERM,
    SCHEME,
    SEED,
    SHINGLE_WORDS,
    Signature,
    minhash_values,
    shingle_hashes,
    signature,
    text_hash,
)

CONTAINMENT = 0.9  # a shorter text this much inside a longer one is a trimmed copy
TRIMMED_RATIO = 0.7  # ... if its Jaccard similarity is at least this share of the threshold
MIN_SHINGLES = 20  # below this, overlap says little: exact duplicates only
__all__ = [
    "NUM_PERM", "SCHEME", "SEED", "SHINGLE_WORDS", "Signature", "minhash_values",
    "shingle_hashes", "signature", "text_hash",
]  # fmt: skip


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / NUM_PERM


def containment(a: Signature, b: Signature, similarity: float | None = None) -> float:
    """Estimated share of the smaller shingle set found in the larger one."""
    j = jaccard(a, b) if similarity is None else similarity
    smaller = min(a.shingles, b.shingles)
    if smaller == 0:
        return 0.0
    shared = j / (1.0 + j) * (a.shingles + b.shingles)
    return min(1.0, shared / smaller)


def copy_score(a: Signature, b: Signature, threshold: float) -> float | None:
    """Estimated Jaccard similarity when ``b`` is a copy of ``a`` (or vice versa), else None.

    A copy has Jaccard >= ``threshold``, or is a trimmed copy: at least 70 % of the threshold,
    with the shorter text at least 90 % inside the longer one.
    """
    if a.text_hash == b.text_hash:
        return 1.0
    if min(a.shingles, b.shingles) < MIN_SHINGLES:
        return None
    j = jaccard(a, b)
    if j >= threshold:
        return j
    if j >= threshold * TRIMMED_RATIO and containment(a, b, j) >= CONTAINMENT:
        return j
    return None


class BandIndex:
    """LSH banding of signatures, laid out as datasketch's ``MinHashLSH`` lays them out for the
    lowest similarity :func:`copy_score` accepts. Each band becomes one signed 64-bit key that
    storage indexes, so the index lives in the database (datasketch's own persistent backends
    are Redis and Cassandra) and a new article costs a few indexed look-ups, never a rebuild."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.bands, self.rows = band_layout(threshold * TRIMMED_RATIO, NUM_PERM)

    def keys(self, sig: Signature) -> list[int]:
        """One key per band; two signatures sharing a key are candidate copies.

        A band's key hashes its number and its rows' hash values as little-endian uint32
        (stored keys depend on it); the values are converted once, then sliced per band.
        """
        values = sig.hashvalues.astype("<u4").tobytes()
        width = 4 * self.rows
        return [
            int.from_bytes(
                hashlib.blake2b(
                    band.to_bytes(2, "little") + values[band * width : (band + 1) * width],
                    digest_size=8,
                ).digest(),
                "little",
                signed=True,
            )
            for band in range(self.bands)
        ]


@lru_cache(maxsize=8)
def band_layout(threshold: float, num_perm: int, points: int = 2001) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` that minimise the mean of the
    false-positive and false-negative areas around ``threshold`` (datasketch's rule; a test
    keeps the two equal).

    Computed here with numpy rather than imported: datasketch's LSH module loads
    ``scipy.integrate`` for this one integral, a third of a second at the end of every crawl.
    """
    layouts = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands, rows = (np.array(column, dtype=float)[:, None] for column in zip(*layouts, strict=True))
    below, above = np.linspace(0.0, threshold, points), np.linspace(threshold, 1.0, points)
    # chance that a pair of this similarity shares at least one band
    false_positive = _simpson(1 - (1 - below**rows) ** bands, threshold)
    false_negative = _simpson((1 - above**rows) ** bands, 1.0 - threshold)
    return layouts[int(np.argmin(false_positive + false_negative))]


def _simpson(values: np.ndarray, width: float) -> np.ndarray:
    """Composite Simpson's rule along the last axis (an odd number of evenly spaced points)."""
    points = values.shape[-1]
    weights = np.ones(points)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    return np.asarray(values @ weights * width / (3 * (points - 1)))


@dataclass(frozen=True, slots=True)
class Member:
    """An article of a syndication group, with what decides the group's origin."""

    id: int
    published_at: datetime | None
    first_seen_at: datetime


def origin_of(members: Iterable[Member]) -> Member:
    """The earliest published copy; ties: earliest first seen, then lowest id."""
    return min(members, key=_origin_key)


def _origin_key(member: Member) -> tuple[datetime, datetime, int]:
    return (member.published_at or member.first_seen_at, member.first_seen_at, member.id)


def components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> Iterator[set[int]]:
    """Connected components (union-find) of an undirected graph."""
    parent: dict[int, int] = {n: n for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for node in parent:
        groups.setdefault(find(node), set()).add(node)
    yield from groups.values()


def duplicate_targets(groups: Iterable[Sequence[Member]]) -> dict[int, int | None]:
    """``duplicate_of`` for every member: the group's origin, None for the origin itself."""
    targets: dict[int, int | None] = {}
    for group in groups:
        origin = origin_of(group)
        for member in group:
            targets[member.id] = None if member.id == origin.id or len(group) < 2 else origin.id
    return targets
