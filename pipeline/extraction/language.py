"""The language of an article: the one its text is written in when that is clear, else the one
its page states.

CLD2 (Chromium's compact language detector, through pycld2) reads the text: 0.1 ms a page and
about 5 MB (py3langid, tried first, held about 80 MB in every extraction worker). Pages state a
wrong language more often than one would think: templates hard-code ``<html lang="en">`` on
German articles, and 4 of the 849 benchmark pages that state a language state the wrong one
(CLD2 was right on all 4; it agreed with the page on 843 and was unsure on 2). So the
text wins when CLD2 is sure of it, on enough text, and the statement is the fallback for short
or mixed texts; for pages that state nothing (5 % of the benchmark pages) the text is all.
"""

from __future__ import annotations

import pycld2

# CLD2 says whether its guess is reliable; to overrule the page, the language must also be
# most of the text; for a page that states none, the larger part of it will do ...
MIN_PERCENT = 80
MIN_PERCENT_UNSTATED = 50
# ... and the text long enough (characters, so that Chinese and Japanese count too).
MIN_CHARS = 200
_SAMPLE_CHARS = 3000  # enough for a confident answer, and a bounded cost
# CLD2 keeps a few withdrawn ISO 639 codes
_CURRENT_CODES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}


def article_language(stated: str | None, text: str) -> str | None:
    """The text's language when it is clear, else ``stated`` (a page's ISO 639-1 code)."""
    if stated is None:
        return detect_language(text, MIN_PERCENT_UNSTATED)
    if len(text) < MIN_CHARS:
        return stated
    return detect_language(text) or stated


def detect_language(text: str, min_percent: int = MIN_PERCENT) -> str | None:
    """ISO 639-1 code of ``text``'s language (``zh`` for Chinese), or None when CLD2 is unsure
    or finds it in less than ``min_percent`` of the text."""
    try:
        reliable, _, details = pycld2.detect(text[:_SAMPLE_CHARS])
    except (pycld2.error, ValueError):  # a lone surrogate, a control byte: not clean UTF-8
        return None
    _, code, percent, _ = details[0]
    if not reliable or percent < min_percent or code in ("un", "xxx"):
        return None
    primary = str(code).split("-")[0]  # zh-Hant
    return _CURRENT_CODES.get(primary, primary)
