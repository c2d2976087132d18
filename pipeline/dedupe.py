"""Duplicate text detection: exact-text keys, MinHash signatures and LSH band keys (datasketch).

Pure functions, no database: :mod:`pipeline.postprocess` stores what they compute. A copy of a
wire story is recognised by word-shingle overlap, estimated from MinHash signatures: high
Jaccard similarity, or a shorter text almost wholly contained in a longer one (a trimmed copy).
Two articles about one event written in different words share few 5-word runs, so they are
never copies (precision first).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from pipeline.versions import normalise_text
from storage.query import words

NUM_PERM = 128
SEED = 1
SHINGLE_WORDS = 5
SCHEME = "affine32"
CONTAINMENT = 0.9  # a shorter text this much inside a longer one is a trimmed copy
TRIMMED_RATIO = 0.7  # ... if its Jaccard similarity is at least this share of the threshold
MIN_SHINGLES = 20  # below this, overlap says little: exact duplicates only

_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIMES = np.array(
    [0x100000001B3, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)


@dataclass(frozen=True, slots=True)
class Signature:
    """What duplicate detection keeps of a text: its exact key and MinHash summary."""

    text_hash: str
    hashvalues: np.ndarray  # uint32[NUM_PERM]
    shingles: int  # distinct shingles, for containment estimates

    def to_bytes(self) -> bytes:
        return self.hashvalues.astype("<u4").tobytes()

    @staticmethod
    def from_bytes(text_hash: str, data: bytes, shingles: int) -> Signature:
        return Signature(text_hash, np.frombuffer(data, dtype="<u4").astype(np.uint32), shingles)


def text_hash(text: str) -> str:
    """SHA-256 of the normalised text: equal hashes are exact duplicates."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def shingle_hashes(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the text's word 5-grams (case- and accent-folded words)."""
    word_ids = _word_ids(text)
    if not word_ids:
        return np.zeros(0, dtype=np.uint32)
    ids = np.array(word_ids, dtype=np.uint64)
    k = min(SHINGLE_WORDS, len(ids))
    count = len(ids) - k + 1
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(k):
        combined += ids[offset : offset + count] * _PRIMES[offset]
    combined ^= combined >> np.uint64(29)
    combined *= _MIX
    combined ^= combined >> np.uint64(32)
    return np.unique((combined & np.uint64(0xFFFFFFFF)).astype(np.uint32))


_WORD = re.compile(r"[^\W_]+")
_WORD_IDS: dict[str, int] = {}
_CHUNK_IDS: dict[bytes, tuple[int, ...]] = {}  # chunk: ids of its words
_CACHE_LIMIT = 1_000_000
# Bytes of ASCII letters and digits are kept, every other ASCII byte separates words (as in
# ``_WORD``); bytes >= 0x80 are kept, so a run holding a non-ASCII character stays one chunk.
_ASCII_SEPARATORS = bytes(c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256))


def _word_ids(text: str) -> list[int]:
    """:func:`_word_id` of each of :func:`_words`, without a regex over the whole text.

    Splitting the UTF-8 bytes on ASCII separators and looking the chunks up in a cache is
    about four times faster than the regex and a look-up per word. A chunk holding a non-ASCII
    character is split and folded by :func:`_words` itself, so the ids are exactly those of
    the words, and stored signatures stay comparable.
    """
    try:
        chunks = text.encode("utf-8").lower().translate(_ASCII_SEPARATORS).split()
    except UnicodeEncodeError:  # lone surrogates
        return [_WORD_IDS.get(w) or _word_id(w) for w in _words(text)]
    if len(_CHUNK_IDS) > _CACHE_LIMIT:
        _CHUNK_IDS.clear()
    found = list(map(_CHUNK_IDS.get, chunks))
    for index, ids in enumerate(found):
        if ids is None:
            found[index] = _chunk_ids(chunks[index])
    return list(chain.from_iterable(found))  # type: ignore[arg-type]


def _chunk_ids(chunk: bytes) -> tuple[int, ...]:
    if chunk.isascii():
        ids: tuple[int, ...] = (zlib.crc32(chunk) | (len(chunk) << 32),)
    else:
        ids = tuple(_WORD_IDS.get(w) or _word_id(w) for w in _words(chunk.decode("utf-8")))
    _CHUNK_IDS[chunk] = ids
    return ids


def _words(text: str) -> list[str]:
    """Folded words (nearly :func:`storage.query.words`), folding only the non-ASCII ones."""
    found = _WORD.findall(text.lower())
    if text.isascii():
        return found
    folded: list[str] = []
    for word in found:
        if word.isascii():
            folded.append(word)
        else:
            folded.extend(words(word))
    return folded


def _word_id(word: str) -> int:
    """A stable 64-bit id per word (CRC-32 plus length), cached: signatures are persisted."""
    if len(_WORD_IDS) > _CACHE_LIMIT:
        _WORD_IDS.clear()
    found = _WORD_IDS[word] = zlib.crc32(word.encode("utf-8")) | (len(word) << 32)
    return found


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int)
_PERM_A, _PERM_B = (np.asarray(p, dtype=np.uint32).reshape(1, -1) for p in _TEMPLATE.permutations)
_EMPTY = np.asarray(_TEMPLATE.hashvalues, dtype=np.uint32)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


def signature(text: str) -> Signature:
    """The text's exact key and its MinHash over word 5-gram shingles."""
    hashes = shingle_hashes(text)
    return Signature(text_hash(text), minhash_values(hashes), len(hashes))


def minhash_values(hashes: np.ndarray) -> np.ndarray:
    """datasketch's affine32 MinHash of 32-bit shingle hashes, computed on the whole array.

    The same values as ``MinHash(..., scheme="affine32", hashfunc=int).update_batch`` (a test
    keeps them equal): its permutations, the MurmurHash3 finalizer, then ``a * h + b`` modulo
    2**32; without its per-value Python loop, which was a third of a signature's cost.
    """
    if not len(hashes):
        return _EMPTY.copy()
    shift1, mul1, shift2, mul2 = _FMIX32
    mixed = hashes.astype(np.uint32)
    mixed = mixed ^ (mixed >> shift1)
    mixed = mixed * mul1
    mixed = mixed ^ (mixed >> shift2)
    mixed = mixed * mul2
    mixed = (mixed ^ (mixed >> shift1)).reshape(-1, 1)
    return np.asarray((mixed * _PERM_A + _PERM_B).min(axis=0), dtype=np.uint32)


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
    """LSH banding of signatures, laid out by a datasketch ``MinHashLSH`` tuned for the lowest
    similarity :func:`copy_score` accepts. Each band becomes one signed 64-bit key that storage
    indexes, so the index lives in the database (datasketch's own persistent backends are Redis
    and Cassandra) and a new article costs a few indexed look-ups, never a rebuild."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        bands, rows = _optimal_param(threshold * TRIMMED_RATIO, NUM_PERM, 0.5, 0.5)
        self.lsh = MinHashLSH(num_perm=NUM_PERM, params=(bands, rows))

    def keys(self, sig: Signature) -> list[int]:
        """One key per band; two signatures sharing a key are candidate copies."""
        keys = []
        for band, (start, end) in enumerate(self.lsh.hashranges):
            digest = hashlib.blake2b(
                band.to_bytes(2, "little") + sig.hashvalues[start:end].astype("<u4").tobytes(),
                digest_size=8,
            ).digest()
            keys.append(int.from_bytes(digest, "little", signed=True))
        return keys


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
