"""What counts as a change of an article: the normalised content it is compared by.

Whitespace, typographic quotes and dashes and soft hyphens vary between loads of one page and
between templates; they must never make a new version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.extraction.agreement import coverage, shingle_set
from pipeline.extraction.authors import clean_authors
from pipeline.words import count_words, has_words

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
        "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    }
)  # fmt: skip
_SPECIAL = re.compile("[" + re.escape("".join(map(chr, _TRANSLATE))) + "]")


def normalise_text(text: str) -> str:
    """NFC, plain quotes and dashes, no soft hyphens or zero-width characters, single spaces.

    Runs on every stored page, so the few characters to replace are found with one regex
    instead of a per-character table lookup, and lines are split on whitespace, not a regex.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = _SPECIAL.sub(_replacement, text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _replacement(match: re.Match[str]) -> str:
    return _TRANSLATE[ord(match.group())] or ""


def content_hash(title: str, text: str, authors: Iterable[str] = ()) -> str:
    """SHA-256 over the normalised title, authors and body: equal hashes mean no real change."""
    parts = [
        normalise_text(title),
        "; ".join(normalise_text(a) for a in authors),
        normalise_text(text),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# --- When is something a new version? ------------------------------------------------------

MIN_WORDS = 25
TRUNCATION_RATIO = 0.5  # a new text under half the old one's length is suspect
TRUNCATION_MIN_OLD_WORDS = 120
FLIP_FLOP_LIMIT = 2  # NewsDiffs: never store a text that is already stored twice
_PAYWALL = re.compile(
    r"subscribe (now |today )?to (continue|read)|to continue reading|already a subscriber|"
    r"create a free account to|sign in to (continue|read)|this (article|content) is (only )?"
    r"(available|for) (to )?(subscribers|members)|access denied|page not found|"
    r"404 (error|not found)|temporarily unavailable|are you a robot|enable javascript",
    re.IGNORECASE,
)


# A cookie-consent wall served in place of the article (the IAB framework's wording and the
# common buttons). One phrase can be in an article about privacy; a wall has several.
_CONSENT = re.compile(
    r"we value your privacy|before you continue|\bour \d+ (?:vendors|partners)\b|"
    r"store and/or access information on a device|\b(?:accept|reject|allow|refuse) all\b|"
    r"manage (?:your )?(?:cookie |privacy )?(?:options|preferences|settings|choices)|"
    r"consent to (?:the|our) use of cookies|legitimate interest|"
    r"personali[sz]ed (?:ads|advertising) and content",
    re.IGNORECASE,
)
CONSENT_MIN_PHRASES = 2
CONSENT_MAX_WORDS = 400  # a consent wall says little; an article quoting one says more
UNRELATED_SHARE = 0.2  # under this share of shingles in common, a text is another page


@dataclass(frozen=True, slots=True)
class Content:
    """The parts of an article whose change makes a version."""

    title: str
    text: str
    authors: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        return content_hash(self.title, self.text, self.authors)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a freshly extracted page of a known article."""

    kind: str  # "new" | "unchanged" | "rejected" | "flip-flop"
    reason: str | None = None


def judge(previous: Content | None, candidate: Content, stored_times: int = 0) -> Verdict:
    """Decide whether ``candidate`` is a real new version of an article last seen as ``previous``.

    Args:
        previous: the latest stored version, None for a new article.
        candidate: what was just extracted.
        stored_times: how many stored versions already have ``candidate``'s content.
    """
    if not has_words(candidate.text, MIN_WORDS):
        return Verdict("rejected", f"extraction too short ({count_words(candidate.text)} words)")
    if previous is None:
        # a new article is only measured as far as needed: counting all of it cost 0.6 ms
        if _is_consent_wall(candidate):
            words = count_words(candidate.text)
            return Verdict("rejected", f"a cookie-consent page, not the article ({words} words)")
        return Verdict("new")
    words = count_words(candidate.text)
    if previous.hash == candidate.hash:
        return Verdict("unchanged")
    if _same_words(previous, candidate) and (
        not previous.authors or clean_authors(list(previous.authors)) == list(candidate.authors)
    ):
        # a byline the extractor reads now and did not before, or reads cleaner ("by Jane
        # Doe, MS" now "Jane Doe"): a newer newsmon, not an edit
        return Verdict("unchanged")
    old_words = count_words(previous.text)
    newly_blocked = _looks_blocked(candidate) and not _looks_blocked(previous)
    if newly_blocked and (words < 0.8 * old_words or _unrelated(previous, candidate)):
        # shorter, or sharing next to nothing with the article: the wall, not an edit
        reason = f"paywall, consent or error page ({words} words, was {old_words})"
        return Verdict("rejected", reason)
    if old_words >= TRUNCATION_MIN_OLD_WORDS and words < TRUNCATION_RATIO * old_words:
        return Verdict("rejected", f"truncated extraction ({words} words, was {old_words})")
    if stored_times >= FLIP_FLOP_LIMIT:
        return Verdict("flip-flop", f"this text is already stored {stored_times} times")
    return Verdict("new")


def _same_words(a: Content, b: Content) -> bool:
    return content_hash(a.title, a.text) == content_hash(b.title, b.text)


def _looks_blocked(content: Content) -> bool:
    head = content.title + "\n" + content.text[:2000]
    return bool(_PAYWALL.search(head)) or _is_consent_wall(content)


def _is_consent_wall(content: Content) -> bool:
    if has_words(content.text, CONSENT_MAX_WORDS + 1):
        return False
    head = content.title + "\n" + content.text[:3000]
    phrases = {match.group().casefold() for match in _CONSENT.finditer(head)}
    return len(phrases) >= CONSENT_MIN_PHRASES


def _unrelated(previous: Content, candidate: Content) -> bool:
    """Whether ``candidate`` shares almost no text with ``previous`` (another page entirely)."""
    return coverage(candidate.text, shingle_set(previous.text)) < UNRELATED_SHARE


# --- When to look again ----------------------------------------------------------------------


def next_check(
    schedule: Sequence[tuple[timedelta, timedelta]], now: datetime, since: datetime
) -> datetime | None:
    """Next recheck time for an article unchanged since ``since`` (first seen or last change).

    The first schedule row whose age bound exceeds the article's age gives the interval; past
    the last row the article is never checked again (None).
    """
    age = now - since
    for max_age, every in schedule:
        if age < max_age:
            return now + every
    return None
