"""How much two extracted texts agree: shared 4-word shingles, line by line.

The extractors disagree mostly about which blocks belong to the article, so their outputs are
compared as sets of word 4-grams ("shingles") taken within lines, the unit the benchmarks score.
"""

from __future__ import annotations

from pipeline.words import WORD_RE, words

__all__ = ["WORD_RE", "words"]  # re-exported: the extraction modules' word

SHINGLE_SIZE = 4
Shingle = tuple[str, ...]


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


def trim_unconfirmed_tail(text: str, other: str, *, agree: float = 0.8, keep: float = 0.8) -> str:
    """Drop the lines at the end of ``text`` that ``other`` does not have.

    Only when ``other`` agrees on the article (at least ``agree`` of its shingles are in ``text``)
    and the cut keeps at least ``keep`` of the words: an extractor that ran past the article's end
    (a promo, a newsletter box, an author bio) is caught by another one that stopped in time.
    """
    if not other:
        return text
    other_key = f" {' '.join(words(other.casefold()))} "
    lines = text.splitlines()
    end = len(lines)
    confirmed: set[Shingle] | None = None
    while end > 0:
        tokens = words(lines[end - 1].casefold())
        # most texts end on a line the other text has word for word: no shingles needed
        if not tokens or f" {' '.join(tokens)} " in other_key:
            break
        if len(tokens) > SHINGLE_SIZE:
            confirmed = shingle_set(other) if confirmed is None else confirmed
            shingles = line_shingles(lines[end - 1])
            if sum(shingle in confirmed for shingle in shingles) >= 0.5 * len(shingles):
                break
        end -= 1
    if end == len(lines) or end == 0:
        return text
    kept = "\n".join(lines[:end])
    if len(words(kept)) < keep * len(words(text)) or coverage(other, shingle_set(text)) < agree:
        return text
    return kept
