"""Salient-term vectors of articles: what automatic story clustering compares.

The headline and the lead (first words of the text) carry the event: who, where, what. Common
words are dropped (jusText stop lists); names (capitalised inside a sentence) count more, since
two different events with similar vocabulary (two fires, two elections) differ mostly in their
names. Weights are TF-IDF with sublinear term frequency; IDF comes from document frequencies the
caller keeps over all articles seen so far.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import justext

from storage.query import fold

LEAD_CHARS = 2000  # about 300 words: the lead and nut graphs; later paragraphs are background
TITLE_WEIGHT = 2  # a headline word counts as often as this many text words
NAME_BOOST = 1.5
TOP_TERMS = 40
MIN_LENGTH = 3

_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]{1,2}", re.UNICODE)
_NAME = re.compile(r"(?:(?<=[a-z0-9\u00df-\u00ff] )|(?<=[,;] ))([^\W\d_][\w'’-]*[^\W_])")
_LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "da": "Danish", "pl": "Polish",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TermCounts:
    """Raw counts of an article's content words, and which of them are names."""

    counts: Mapping[str, int]
    names: frozenset[str]


@lru_cache(maxsize=16)
def stopwords(language: str | None) -> frozenset[str]:
    """English stop words plus those of the article's language (folded)."""
    names = {"English", _LANGUAGES.get((language or "en")[:2].lower(), "English")}
    return frozenset(fold(word) for name in names for word in justext.get_stoplist(name))


def term_counts(title: str, text: str, language: str | None = None) -> TermCounts:
    """Content-word counts of the headline (weighted) and the lead."""
    stop = stopwords(language)
    counts: Counter[str] = Counter()
    names: set[str] = set()
    for weight, source in ((TITLE_WEIGHT, title), (1, _lead(text))):
        for term in _words(source):
            if len(term) >= MIN_LENGTH and term not in stop:
                counts[term] += weight
        names.update(_names(source))
    return TermCounts(counts, frozenset(names & counts.keys()))


def _lead(text: str) -> str:
    if len(text) <= LEAD_CHARS:
        return text
    return text[:LEAD_CHARS].rsplit(None, 1)[0]


def _words(text: str) -> list[str]:
    found = _TOKEN.findall(text.lower())
    if text.isascii():
        return found
    return [w if w.isascii() else fold(w).replace("’", "'") for w in found]


def _names(text: str) -> set[str]:
    """Capitalised words inside a sentence (after a lower-case word or a comma): names."""
    found = _NAME.findall(text)
    return {
        w.lower() if w.isascii() else fold(w).replace("’", "'") for w in found if w[0].isupper()
    }


def idf(df: int, documents: int) -> float:
    """Smoothed inverse document frequency (never zero, so tiny collections still work)."""
    return math.log((documents + 1) / (df + 1)) + 1.0


def vector(
    terms: TermCounts, df: Mapping[str, int], documents: int, top: int = TOP_TERMS
) -> dict[str, float]:
    """The ``top`` heaviest terms, TF-IDF weighted, L2-normalised."""
    weights = {}
    for term, count in terms.counts.items():
        weight = (1.0 + math.log(count)) * idf(df.get(term, 0), documents)
        if term in terms.names:
            weight *= NAME_BOOST
        weights[term] = weight
    kept = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:top]
    norm = math.sqrt(sum(w * w for _, w in kept)) or 1.0
    return {term: round(w / norm, 5) for term, w in kept}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())
