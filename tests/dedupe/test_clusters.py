"""Automatic story clustering: term vectors and the average-linkage pass (no database)."""

from __future__ import annotations

from collections import Counter

from pipeline.clusters import Unit, cluster_batch
from pipeline.terms import TermCounts, cosine, term_counts, vector
from tests.dedupe import texts

HOUR = 3600.0
WINDOW = 72 * HOUR
THRESHOLD = 0.25

ARTICLES = {
    "wire": (texts.WIRE_TITLE, texts.WIRE),
    "harlow_own": (texts.OWN_HARLOW_1_TITLE, texts.OWN_HARLOW_1),
    "harlow_inquiry": (texts.OWN_HARLOW_2_TITLE, texts.OWN_HARLOW_2),
    "ellison": (texts.OTHER_FIRE_1_TITLE, texts.OTHER_FIRE_1),
    "ellison_2": (texts.OTHER_FIRE_2_TITLE, texts.OTHER_FIRE_2),
    "budget": (texts.UNRELATED_1_TITLE, texts.UNRELATED_1),
    "bakery": (texts.UNRELATED_2_TITLE, texts.UNRELATED_2),
}


def vectors() -> dict[str, dict[str, float]]:
    counts = {k: term_counts(t, texts.text(p)) for k, (t, p) in ARTICLES.items()}
    df = Counter(term for c in counts.values() for term in c.counts)
    return {k: vector(c, df, len(counts)) for k, c in counts.items()}


def test_names_count_more_than_common_words() -> None:
    counts = term_counts(texts.WIRE_TITLE, texts.text(texts.WIRE))
    assert {"whitcomb", "verant", "ocampo", "harlow"} <= counts.names
    assert "said" not in counts.counts  # a stop word
    weights = vector(counts, {}, 1)
    assert weights["whitcomb"] > weights.get("firefighters", 0.0)


def test_same_event_is_closer_than_a_similar_event() -> None:
    v = vectors()
    same = min(cosine(v["wire"], v[k]) for k in ("harlow_own", "harlow_inquiry"))
    similar = max(cosine(v[a], v[b]) for a in ("wire", "harlow_own") for b in ("ellison",))
    assert same >= THRESHOLD > similar


def test_a_batch_clusters_events_and_leaves_the_rest_alone() -> None:
    v = vectors()
    units = [Unit(i, float(i) * HOUR, v[k]) for i, k in enumerate(ARTICLES, start=1)]
    result = cluster_batch([], units, THRESHOLD, WINDOW)
    clusters = Counter(result.assigned.values())
    by_key = {k: result.assigned[i] for i, k in enumerate(ARTICLES, start=1)}
    assert by_key["wire"] == by_key["harlow_own"] == by_key["harlow_inquiry"]
    assert by_key["ellison"] == by_key["ellison_2"] != by_key["wire"]
    assert clusters[by_key["budget"]] == clusters[by_key["bakery"]] == 1


def test_new_articles_join_stored_clusters_within_the_window() -> None:
    v = vectors()
    known = [Unit(1, 0.0, v["wire"], cluster=1), Unit(4, 0.0, v["ellison"], cluster=4)]
    near = Unit(2, 10 * HOUR, v["harlow_own"])
    far = Unit(3, 10 * 24 * HOUR, v["harlow_inquiry"])  # ten days later: another story
    result = cluster_batch(known, [near, far], THRESHOLD, WINDOW)
    assert result.assigned == {2: 1, 3: 3}


def test_an_article_close_to_two_clusters_on_average_merges_them() -> None:
    a = {"alpha": 0.8, "beta": 0.6}
    b = {"alpha": 0.6, "gamma": 0.8}
    bridge = {"alpha": 1.0}
    known = [Unit(1, 0.0, a, cluster=1), Unit(2, 0.0, b, cluster=2)]
    result = cluster_batch(known, [Unit(3, HOUR, bridge)], THRESHOLD, WINDOW)
    assert result.merged == {2: 1}
    assert result.assigned == {3: 1}


def test_one_strong_link_does_not_pull_an_article_into_a_dissimilar_cluster() -> None:
    members = [Unit(i, 0.0, {"x": 1.0}, cluster=1) for i in range(1, 10)]
    members.append(Unit(10, 0.0, {"y": 1.0}, cluster=1))  # one odd member
    result = cluster_batch(members, [Unit(11, HOUR, {"y": 1.0})], THRESHOLD, WINDOW)
    assert result.assigned == {11: 11}  # average similarity to cluster 1 is 1/10


def test_empty_vectors_cluster_alone() -> None:
    result = cluster_batch([], [Unit(1, 0.0, {}), Unit(2, 0.0, {})], THRESHOLD, WINDOW)
    assert result.assigned == {1: 1, 2: 2}
    assert vector(TermCounts({}, frozenset()), {}, 0) == {}
