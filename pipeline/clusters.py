"""Automatic story clusters: articles of several outlets covering one event, grouped in one pass.

Each new article joins the cluster it is most similar to, judged by *average* similarity to the
cluster's members within the time window (average linkage), not by its single best match: one
article that mentions two events must not chain their clusters together. An article similar
enough to two clusters on average merges them. Similarities are cosines of salient-term vectors
(:mod:`pipeline.terms`), computed for a whole batch at once as one sparse matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix

JOIN_RATIO = 0.6  # average similarity to a cluster's members, relative to the link threshold


@dataclass(slots=True)
class Unit:
    """One article as clustering sees it: time (epoch seconds), vector, cluster (None: new)."""

    id: int
    at: float
    vector: dict[str, float]
    cluster: int | None = None


@dataclass(slots=True)
class Clustering:
    """What a batch changed: the cluster of each new unit, and clusters merged into others."""

    assigned: dict[int, int] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)

    def final(self, cluster: int) -> int:
        while cluster in self.merged:
            cluster = self.merged[cluster]
        return cluster


def cluster_batch(
    known: Sequence[Unit], new: Sequence[Unit], threshold: float, window: float
) -> Clustering:
    """Assign each of ``new`` (in time order) to a cluster of ``known`` or of earlier new units.

    Args:
        known: clustered units within ``window`` of the new ones (their ``cluster`` set).
        new: units to cluster; their ``cluster`` is ignored.
        threshold: least cosine for two articles to be linked (``[dedupe] story_threshold``).
        window: seconds; articles further apart are never compared.
    """
    result = Clustering()
    if not new:
        return result
    units = [*known, *new]
    similarities = _similarities(units, len(known))
    clusters: dict[int, list[int]] = {}
    cluster_of: list[int | None] = [u.cluster for u in known] + [None] * len(new)
    for index, unit in enumerate(known):
        if unit.cluster is not None:
            clusters.setdefault(unit.cluster, []).append(index)
    order = sorted(range(len(new)), key=lambda i: (new[i].at, new[i].id))
    for row in order:
        index = len(known) + row
        sims = similarities[row]
        chosen = _qualifying(units, index, sims, cluster_of, clusters, threshold, window)
        target = min(chosen) if chosen else new[row].id
        for absorbed in chosen:
            if absorbed != target:
                _merge(clusters, cluster_of, absorbed, target)
                result.merged[absorbed] = target
        clusters.setdefault(target, []).append(index)
        cluster_of[index] = target
    for row, unit in enumerate(new):
        final = cluster_of[len(known) + row]
        assert final is not None
        result.assigned[unit.id] = result.final(final)
    return result


def _similarities(units: Sequence[Unit], first_new: int) -> list[dict[int, float]]:
    """Cosine of every new unit with every unit, as sparse rows {unit index: cosine}."""
    vocabulary: dict[str, int] = {}
    indptr, indices, data = [0], [], []
    for unit in units:
        for term, weight in unit.vector.items():
            indices.append(vocabulary.setdefault(term, len(vocabulary)))
            data.append(weight)
        indptr.append(len(indices))
    shape = (len(units), max(1, len(vocabulary)))
    matrix = csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
        shape=shape,
    )
    product = (matrix[first_new:] @ matrix.T).tocsr()
    rows = []
    for row in range(product.shape[0]):
        start, end = product.indptr[row], product.indptr[row + 1]
        rows.append(
            dict(
                zip(
                    product.indices[start:end].tolist(),
                    product.data[start:end].tolist(),
                    strict=True,
                )
            )
        )
    return rows


def _qualifying(
    units: Sequence[Unit],
    index: int,
    sims: dict[int, float],
    cluster_of: list[int | None],
    clusters: dict[int, list[int]],
    threshold: float,
    window: float,
) -> list[int]:
    """Clusters the unit links to (one member >= threshold) and fits on average."""
    at = units[index].at
    candidates = {
        cluster_of[other]
        for other, sim in sims.items()
        if sim >= threshold
        and other != index
        and cluster_of[other] is not None
        and abs(units[other].at - at) <= window
    }
    chosen = []
    for cluster in candidates:
        assert cluster is not None
        members = [m for m in clusters[cluster] if abs(units[m].at - at) <= window]
        average = sum(sims.get(m, 0.0) for m in members) / max(1, len(members))
        if average >= threshold * JOIN_RATIO:
            chosen.append(cluster)
    return chosen


def _merge(
    clusters: dict[int, list[int]], cluster_of: list[int | None], absorbed: int, target: int
) -> None:
    for member in clusters.pop(absorbed, []):
        cluster_of[member] = target
        clusters.setdefault(target, []).append(member)
