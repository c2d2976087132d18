"""Line-level clean-up of an extracted text: what extractors leave at the edges of an article.

Each rule is generic (no site names) and was kept only if it raised F1 on both development sets
(``bench/extraction.py``; figures in ``bench/README.md``). Lines are paragraphs here: every
extractor in this package returns one block per line.
"""

from __future__ import annotations

import re

from pipeline.extraction.agreement import WORD_RE

# A headline repeated as the first lines of the text (trafilatura and readability keep the <h1>
# and the standfirst when they sit inside the article container) is looked for this far down.
_TITLE_LINES = 3
# Lines at least this long that repeat an earlier line are duplicates (templates that render the
# article twice, a pull quote, an image credit under every photo).
_DUPLICATE_MIN_WORDS = 8
# At the start and end of the text, a line this short that does not end like a sentence is a
# label ("Photos", "Review", "Comments", "Tempo de leitura: 1 minuto"), not a paragraph.
_EDGE_LABEL_MAX_WORDS = 5
# ... and so is a short line that asks the reader to do something or says where the text is from.
_EDGE_PROMO_MAX_WORDS = 25
_SENTENCE_END_RE = re.compile(r"[.!?…\"”’»)\]。！？」』]\s*$")
_PROMO_RE = re.compile(
    r"subscri|newsletter|sign[ -]?up|copyright|\u00a9|\u24d2|all rights reserved|advertis"
    r"|read more|related|you may also like|follow us|share (?:this|it)|comments?$"
    r"|tell us what you think|click here|download|listen|source:|reporting by|editing by"
    r"|@|https?://",
    re.IGNORECASE,
)
# Pointers to other articles inside the text: "Related: ...", "Read more: ...", "Also on x.com ...".
_POINTER_RE = re.compile(
    r"^\s*(?:related(?: stories| articles| posts?)?|read (?:more|also|next)|see also|more"
    r"|also on [\w.]+|watch|listen|recommended|most read)\b\s*[:|\-–—]",
    re.IGNORECASE,
)


def tidy(text: str, titles: list[str]) -> str:
    """Apply every clean-up rule, in the order they were measured in."""
    text = drop_duplicate_lines(text)
    text = drop_title_lines(text, titles)
    text = drop_pointer_lines(text)
    return trim_edges(text)


def drop_duplicate_lines(text: str) -> str:
    """Remove a line of at least 8 words that repeats an earlier line word for word."""
    seen: set[str] = set()
    kept = []
    for line in text.splitlines():
        key = normalized(line)
        if len(key.split()) >= _DUPLICATE_MIN_WORDS and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return "\n".join(kept)


def drop_title_lines(text: str, titles: list[str]) -> str:
    """Remove the first of the first three lines that repeats the headline.

    ``titles`` are the page's headline candidates (``og:title``, ``<title>``, ``<h1>``...); a line
    matches when it equals one, is a large part of one (a ``<title>`` with a " | Site" suffix) or
    contains one (a headline with a kicker).
    """
    lines = text.splitlines()
    keys = [key for key in (normalized(title) for title in titles) if key]
    for index, line in enumerate(lines[:_TITLE_LINES]):
        if _is_title(normalized(line), keys):
            return "\n".join(lines[:index] + lines[index + 1 :])
    return text


def drop_pointer_lines(text: str) -> str:
    """Remove lines that point to other articles ("Related: ...", "Read more: ...")."""
    return "\n".join(line for line in text.splitlines() if not _POINTER_RE.search(line))


def trim_edges(text: str) -> str:
    """Remove labels and promotions before the first and after the last paragraph.

    One line is always kept, so a text made only of short lines survives (as a list would).
    """
    lines = text.splitlines()
    start, end = 0, len(lines)
    while end > start + 1 and _is_edge_junk(lines[end - 1]):
        end -= 1
    while start < end - 1 and _is_edge_junk(lines[start]):
        start += 1
    return "\n".join(lines[start:end])


def normalized(text: str) -> str:
    """Lower-case words separated by single spaces, punctuation dropped."""
    return " ".join(WORD_RE.findall(text.casefold()))


def _is_title(key: str, titles: list[str]) -> bool:
    if not key:
        return False
    for title in titles:
        if key == title:
            return True
        if key in title and len(key) >= 0.5 * len(title):
            return True
        if title in key and len(title) >= 0.6 * len(key) and len(key.split()) <= 30:
            return True
    return False


def _is_edge_junk(line: str) -> bool:
    count = len(WORD_RE.findall(line))
    if count == 0:
        return True
    # list items and table rows are content even when short ("- Take one, leave one")
    is_item = line.startswith(("- ", "|"))
    if count < _EDGE_LABEL_MAX_WORDS and not is_item and not _SENTENCE_END_RE.search(line):
        return True
    return count < _EDGE_PROMO_MAX_WORDS and bool(_PROMO_RE.search(line))
