"""MinHash signatures of texts: word 5-gram shingles and datasketch's affine32 MinHash.

Numpy only, so that the extraction workers can sign each text next to extracting it;
:mod:`pipeline.dedupe` compares signatures and bands them (datasketch's LSH layout).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from itertools import chain

import numpy as np

from pipeline.versions import normalise_text
from storage.query import words

NUM_PERM = 128
SEED = 1
SHINGLE_WORDS = 5
SCHEME = "affine32"

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


# datasketch's permutations for NUM_PERM, SEED and SCHEME (its ``MinHash.permutations``: the
# 128 values of ``a``, then the 128 of ``b``, little-endian uint32), kept here so that the
# extraction workers need numpy only: importing datasketch loads scipy, 50 MB in every worker.
# tests/dedupe/test_dedupe.py keeps them equal to datasketch's.
_PERMUTATIONS = bytes.fromhex(
    "4be883d5d7018ffe195fce70912878ddfffd0e00138799419755cb9a0b3d82ff9f96234b81a7e0782101472f"
    "03a10ccb997f5d5f8f3c9cc6db55edb0f9f3e8560d1b25cb33fafede65c9df1329aa4fb1fda9a0d6cb6265a0"
    "2517d55ea993910c17f7ad68f9410ce3d59b98c139258b753bbf050e1db39e116584475789d4f2d3aff9a8d5"
    "afbf16ead3970c1ee38584dcefcbe047bd5bd5e0c18e6d65ad08898e1b31fb99d3af936e13fbbfef0f08039b"
    "7f2279a07b96832f2d1c7862734a4b090314b6c001efe3ba79e209caa3f185a811ea8a2bb1c5c1a81bfdfe13"
    "e734cd8b5f03f456d51f551ef3e49bc191734f573d845a328f48a62f076b9bd78d0be3572b7f70ea63dcd5d2"
    "730afb100764256589b73d6231564a94e3438ba157f8c348990c7d5f35980e91690e54aba14a38d3db145d09"
    "e7e67e1153ea1280a5db803f1f004cfa81d83e5289910f7f3360d498df5a968fc5bd6be4af6b1c940f4fba71"
    "350ada3433fd8f25d14c52e52d0840f0136e33d1877d3d31cf975496fd8886ce2f4a5793fbda2d3dc91a9342"
    "3781b20c4b77ea0973a2d02aa754905b4dd96ed511855a6c414a26d245bbf587155e0d992f7aaffb1f0d352b"
    "df55521baf38bf2133bef2258f1f563ae701204bb90abfe99574b92d7d099f855dba466641a74776b12d6534"
    "2f2920116f25ffd3834a5ee6e36a88639b4e72fc074e0fd40197c914f8bfc90cfdd4f6c3cd81308906c79b0b"
    "3472eea9d5d1d423c6c5cf8302f6daca4cf6d0f1db0fa10795782896cb8214e2075945e74d18718ac88a3123"
    "4bd4ae724c9da7232b0463e41432b1ce1e5ea9602426ce656733d68907a7542a2d0ffda6c43371ed399a7b5c"
    "f02e0759fc9d2d92d23835c0604049a30d01dbb90a2c5620175920e27c3fb1b051fba89f87e7d2a579c33dc0"
    "98c09b5aca665159dc3d63c394fe1945a0a9455b8ccc58e5c1bcb6c05e62976d3c9e9fe1e9c1fff698c0fc02"
    "524dd7a97313847f6173279f8208e412ecfd5f1ddca675c967ba11f362b766100a712d73b69ef55a60571194"
    "e9391cf152a77b68d6c93a61c6ccad3cc2ba4ec347e143e7e73f87c5b0a8dc9236f6254d0f1cbc00853bd2c5"
    "9135fd9daa68262714009f53765a2194b047ed8616594e02e519cde28dcf83b5f107765b72ea7b7861c295e8"
    "b556bcc35487949f0a0ca77760dc0c04b740dd443d99efed38cee9d4d99edeb095a1238de78c50ff60dcf011"
    "f9811e2cd31ff47819541b23f1d525be8e93beee8d082431d4ac62b2741edd762b63e510860ef93acd0666c1"
    "b8821c82bb07fec08fbb643518564becfb339f0c897c26b6c221d484c738d01f356f1a2c45dd1605a4c97465"
    "65c3b506f84a7c1b15183f0728ed82824db0073fdb88251ab1ca2adc7169e9492fd5f089cd85543ba8bd858d"
    "ce15b9f72d568fd757e73f47"
)
_PERM_A, _PERM_B = (
    np.frombuffer(_PERMUTATIONS, dtype="<u4").astype(np.uint32).reshape(2, 1, NUM_PERM)
)
_EMPTY = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)  # datasketch's initial hash values
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
