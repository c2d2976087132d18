"""Duplicate text detection: exact keys, MinHash copies, origins and groups (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.dedupe import (
    NUM_PERM,
    BandIndex,
    Member,
    Signature,
    band_layout,
    components,
    copy_score,
    duplicate_targets,
    origin_of,
    signature,
    text_hash,
)
from tests.dedupe import texts

THRESHOLD = 0.5
WIRE = texts.text(texts.WIRE)
# keys and values of "one two three four five six" as the first release stored them
GOLDEN_BAND_KEYS = [8343313456881261108, -189301099999081405]
GOLDEN_LAST_BAND_KEY = -4430105955801656239  # the 32nd band's
GOLDEN_MINHASH = [1412634795, 844585627, 1879921935]


def test_exact_key_ignores_whitespace_quotes_and_dashes() -> None:
    retyped = WIRE.replace("\u201c", '"').replace("\u2014", "-").replace(" ", "  ")
    assert text_hash(retyped) == text_hash(WIRE)
    assert text_hash(WIRE + " More.") != text_hash(WIRE)


@pytest.mark.parametrize(
    "copy",
    [
        texts.WIRE,  # verbatim: an exact duplicate
        texts.WIRE_TRIMMED,  # last paragraph cut
        ["Staff Reports", *texts.WIRE, "Copyright 2026 The Associated Press."],  # boilerplate
        [p.replace("Tuesday", "Tuesday night") for p in texts.WIRE],  # copy edits
        texts.WIRE[:4],  # a brief: the first four of seven paragraphs
    ],
    ids=["verbatim", "trimmed", "boilerplate", "edited", "brief"],
)
def test_wire_copies_are_copies(copy: list[str]) -> None:
    assert copy_score(signature(WIRE), signature(texts.text(copy)), THRESHOLD) is not None


@pytest.mark.parametrize(
    "other",
    [texts.OWN_HARLOW_1, texts.OWN_HARLOW_2, texts.OTHER_FIRE_1, texts.UNRELATED_1],
    ids=["same-event-1", "same-event-2", "similar-event", "unrelated"],
)
def test_other_words_are_never_copies(other: list[str]) -> None:
    assert copy_score(signature(WIRE), signature(texts.text(other)), THRESHOLD) is None


def test_a_short_shared_passage_is_not_a_copy() -> None:
    quote = texts.WIRE[2]  # both quote the fire chief at length
    own = texts.text([*texts.OWN_HARLOW_1, quote])
    assert copy_score(signature(WIRE), signature(own), THRESHOLD) is None


def test_signatures_survive_storage() -> None:
    sig = signature(WIRE)
    again = Signature.from_bytes(sig.text_hash, sig.to_bytes(), sig.shingles)
    assert copy_score(sig, again, THRESHOLD) == 1.0
    assert len(sig.to_bytes()) == 512


def test_band_keys_are_shared_by_copies_only() -> None:
    index = BandIndex(THRESHOLD)
    wire = set(index.keys(signature(WIRE)))
    trimmed = set(index.keys(signature(texts.text(texts.WIRE_TRIMMED))))
    other = set(index.keys(signature(texts.text(texts.OWN_HARLOW_1))))
    assert len(wire) == index.bands
    assert wire & trimmed
    assert not wire & other


def test_band_keys_never_change() -> None:
    """Band keys are persisted: word ids, MinHash and band hashing must give the same keys in
    every process and every release (a change needs a migration that recomputes them)."""
    keys = BandIndex(THRESHOLD).keys(signature("one two three four five six"))
    assert keys[:2] == GOLDEN_BAND_KEYS
    assert (len(keys), keys[-1]) == (32, GOLDEN_LAST_BAND_KEY)
    assert signature("one two three four five six").hashvalues[:3].tolist() == GOLDEN_MINHASH


def test_band_layout_is_datasketchs() -> None:
    """The layout is computed with numpy to spare post-processing scipy.integrate: it must be
    the one datasketch's MinHashLSH chooses, for every threshold."""
    from datasketch import MinHashLSH
    from datasketch.lsh import _optimal_param

    for percent in range(5, 100):
        threshold = percent / 100
        assert band_layout(threshold, NUM_PERM) == _optimal_param(threshold, NUM_PERM, 0.5, 0.5)
    index = BandIndex(THRESHOLD)
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(index.bands, index.rows))
    assert [(b * index.rows, (b + 1) * index.rows) for b in range(index.bands)] == lsh.hashranges


T = datetime(2026, 11, 24, tzinfo=UTC)


def test_origin_is_the_earliest_published_then_first_seen_then_lowest_id() -> None:
    hour = timedelta(hours=1)
    assert origin_of([Member(5, T, T), Member(3, T + hour, T)]).id == 5
    assert origin_of([Member(5, T, T + hour), Member(7, T, T)]).id == 7
    assert origin_of([Member(9, T, T), Member(4, T, T)]).id == 4
    assert origin_of([Member(2, None, T + hour), Member(8, None, T)]).id == 8


def test_groups_point_at_their_origin_never_along_a_chain() -> None:
    # 1 ~ 2 ~ 3 (2 is the copy that links them), 4 alone
    groups = [
        [Member(a, T + timedelta(hours=h), T) for a, h in members]
        for members in ([(1, 2), (2, 1), (3, 0)], [(4, 0)])
    ]
    assert duplicate_targets(groups) == {1: 3, 2: 3, 3: None, 4: None}


def test_components_join_through_shared_members() -> None:
    found = sorted(sorted(c) for c in components([1, 2, 3, 4, 5], [(1, 2), (2, 3), (5, 4)]))
    assert found == [[1, 2, 3], [4, 5]]


@pytest.mark.parametrize(
    "sample",
    [WIRE, texts.text(texts.WIRE_TRIMMED), "", "one two three", "Ünïcödé wörds " * 50],
)
def test_minhash_values_are_datasketchs(sample: str) -> None:
    """Signatures are stored: the vectorised MinHash must equal datasketch's, value for value."""
    from datasketch import MinHash

    from pipeline.dedupe import NUM_PERM, SCHEME, SEED, minhash_values, shingle_hashes

    hashes = shingle_hashes(sample)
    reference = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int)
    if len(hashes):
        reference.update_batch(hashes.tolist())
    assert minhash_values(hashes).tolist() == reference.hashvalues.tolist()
    assert signature(sample).hashvalues.dtype.name == "uint32"


@pytest.mark.parametrize(
    "sample",
    [
        WIRE,
        "",
        "snake_case and_more __init__ a_b",
        "Don’t “quote” — it’s l’Élysée, naïve café, STRASSE Straße",
        "ﬁnance ǅemal İstanbul 273 \u212aelvin e\u0301tude",
        "Токио 東京都 2024年 ΣΊΣΥΦΟΣ σίσυφος",
        "tab\tnew\nline\u00a0nbsp\u2009thin\u200bzero-width",
        "lone \ud800 surrogate",
    ],
)
def test_word_ids_are_those_of_the_folded_words(sample: str) -> None:
    """Shingles read the text's bytes, not a regex: the ids must stay those of the words,
    since signatures are stored and compared with later ones."""
    from pipeline.minhash import _word_id, _word_ids, _words

    assert _word_ids(sample) == [_word_id(word) for word in _words(sample)]


def test_minhash_permutations_are_datasketchs() -> None:
    """Workers sign texts without importing datasketch (and scipy): its permutations are kept
    in pipeline.minhash and must stay its own."""
    from datasketch import MinHash

    from pipeline.minhash import _EMPTY, _PERM_A, _PERM_B, NUM_PERM, SCHEME, SEED

    template = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int)
    a, b = template.permutations
    assert _PERM_A.ravel().tolist() == [int(x) for x in a]
    assert _PERM_B.ravel().tolist() == [int(x) for x in b]
    assert _EMPTY.tolist() == [int(x) for x in template.hashvalues]
