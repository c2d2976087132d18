"""Compressed version content: zstd, with an earlier version of the same article as dictionary.

A small edit of a 100 KB page then costs a few hundred bytes instead of a full compressed copy.
Each version depends on at most one *keyframe* (a version compressed without dictionary), so
reading any version needs at most two decompressions and no chain walk.
"""

from __future__ import annotations

from dataclasses import dataclass

import zstandard

# Standalone copies are compressed on the crawl's hot path: level 3 is five times faster than
# level 10 and only ~10% larger on news HTML (measured on the corpus pages). Deltas are small
# and rare, so they take the stronger level.
PLAIN_LEVEL = 3
DELTA_LEVEL = 10
PLAIN = "zstd"
DELTA = "zstd+dict"
# A delta larger than this share of a standalone copy means the article has drifted too far
# from its keyframe: store a new keyframe instead.
KEYFRAME_RATIO = 0.5


@dataclass(frozen=True, slots=True)
class Packed:
    text: bytes
    raw: bytes | None
    codec: str

    @property
    def size(self) -> int:
        return len(self.text) + len(self.raw or b"")


def pack(text: str, raw: bytes | None, base: tuple[str, bytes | None] | None) -> Packed:
    """Compress ``text`` and ``raw``, against ``base`` (keyframe text, raw) when that pays off."""
    plain = Packed(_compress(text.encode("utf-8")), _compress(raw) if raw else None, PLAIN)
    if base is None:
        return plain
    base_text, base_raw = base
    delta = Packed(
        _compress(text.encode("utf-8"), base_text.encode("utf-8")),
        _compress(raw, base_raw) if raw else None,
        DELTA,
    )
    return delta if delta.size <= KEYFRAME_RATIO * plain.size else plain


def unpack_text(blob: bytes, codec: str, base_text: str | None = None) -> str:
    base = base_text.encode("utf-8") if codec == DELTA and base_text is not None else None
    return _decompress(blob, base).decode("utf-8")


def unpack_raw(blob: bytes | None, codec: str, base_raw: bytes | None = None) -> bytes | None:
    if blob is None:
        return None
    return _decompress(blob, base_raw if codec == DELTA else None)


def _compress(data: bytes, dictionary: bytes | None = None) -> bytes:
    if dictionary:
        shared = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=shared).compress(data)
    return zstandard.ZstdCompressor(level=PLAIN_LEVEL).compress(data)


def _decompress(blob: bytes, dictionary: bytes | None = None) -> bytes:
    if dictionary:
        shared = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=shared).decompress(blob)
    return zstandard.ZstdDecompressor().decompress(blob)
