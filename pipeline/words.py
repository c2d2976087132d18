"""What counts as a word, everywhere a text is measured or compared.

A word is a run of word characters, except that each CJK ideograph and each kana is a word of
its own: Chinese and Japanese write no spaces, so a ``\\w+`` run there is a whole clause, and a
one-character edit would count (and diff) as a sentence replaced. The same characters as the
search index's (``storage.query.CJK_CHARS``; storage may not import this module). Pure ``re``:
the extraction workers load it.
"""

from __future__ import annotations

import re
from itertools import islice

# Hiragana and katakana, CJK extension A, unified ideographs, compatibility ideographs and
# the supplementary planes' ideographs (extensions B to F).
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"

WORD_RE = re.compile(f"[{CJK_CHARS}]|[^\\W{CJK_CHARS}]+")
# Diff tokens: words as above, whitespace runs, single punctuation marks.
TOKEN_RE = re.compile(f"[{CJK_CHARS}]|[^\\W{CJK_CHARS}]+|\\s+|[^\\w\\s]")
# Where a word may end without a space: before whitespace or an ideograph (see diffrender).
WORD_BREAK_RE = re.compile(f"\\s|[{CJK_CHARS}]")
_CJK_RE = re.compile(f"[{CJK_CHARS}]")


def words(text: str) -> list[str]:
    """The words of ``text``, case kept."""
    return WORD_RE.findall(text)


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def has_words(text: str, count: int) -> bool:
    """Whether ``text`` has at least ``count`` words, reading no further than needed (texts
    run long, and most checks only ask for a minimum)."""
    return sum(1 for _ in islice(WORD_RE.finditer(text), count)) >= count


def is_cjk(char: str) -> bool:
    """Whether ``char`` is a CJK ideograph or a kana: a word by itself."""
    return bool(_CJK_RE.match(char))
