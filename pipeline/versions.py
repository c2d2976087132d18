"""What counts as a change of an article: the normalised content it is compared by.

Whitespace, typographic quotes and dashes and soft hyphens vary between loads of one page and
between templates; they must never make a new version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")
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


def normalise_text(text: str) -> str:
    """NFC, plain quotes and dashes, no soft hyphens or zero-width characters, single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def content_hash(title: str, text: str, authors: Iterable[str] = ()) -> str:
    """SHA-256 over the normalised title, authors and body: equal hashes mean no real change."""
    parts = [
        normalise_text(title),
        "; ".join(normalise_text(a) for a in authors),
        normalise_text(text),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
