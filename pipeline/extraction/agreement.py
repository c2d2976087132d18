"""How much two extracted texts agree: shared 4-word shingles, line by line.

The extractors disagree mostly about which blocks belong to the article, so their outputs are
compared as sets of word 4-grams ("shingles") taken within lines, the unit the benchmarks score.
"""

from __future__ import annotations

import re

SHINGLE_SIZE = 4
Shingle = tuple[str, ...]

# Words as ``\w+`` runs, except that each CJK ideograph or kana counts as a word (no spaces there).
WORD_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+")


def words(text: str) -> list[str]:
    """The words of ``text`` (see ``WORD_RE``), case kept."""
    return WORD_RE.findall(text)


def line_shingles(line: str) -> list[Shingle]:
    """The 4-word shingles of one line; a line of fewer words is a single short shingle."""
    tokens = WORD_RE.findall(line.casefold())
    if len(tokens) <= SHINGLE_SIZE:
        return [tuple(tokens)] if tokens else []
    return [tuple(tokens[i : i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1)]


def shingle_set(text: str) -> set[Shingle]:
    """Every shingle of every line of ``text``."""
    return {shingle for line in text.splitlines() for shingle in line_shingles(line)}


def coverage(text: str, shingles: set[Shingle]) -> float:
    """Share of the shingles of ``text`` that are in ``shingles`` (0.0 for an empty text)."""
    total = found = 0
    for line in text.splitlines():
        for shingle in line_shingles(line):
            total += 1
            found += shingle in shingles
    return found / total if total else 0.0
