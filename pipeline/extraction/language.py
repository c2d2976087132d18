"""The language of an article whose page does not state one (about 5 % of the benchmark pages).

py3langid (trafilatura's own optional language identifier; 97 languages, naive Bayes over byte
n-grams) reads the text. Its model takes about 80 MB and 0.7 s to load, so it is loaded on the
first page that needs it, not preloaded: a crawl of outlets that declare their language (the
common case) never pays for it. The stated language always wins: the text of a short page or of
a quotation-heavy one can mislead a detector, the publisher rarely does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

# Short texts are guessed poorly; a guess below this probability is no answer.
MIN_WORDS = 15
MIN_PROBABILITY = 0.9
_MIN_SCRIPT_LETTERS = 30
_SAMPLE_CHARS = 3000  # enough for a confident answer, and a bounded cost (~0.5 ms)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when unsure or too short."""
    sample = text[:_SAMPLE_CHARS]
    by_script = _script_language(sample)
    if by_script is not None:
        return by_script
    if len(sample.split()) < MIN_WORDS:
        return None
    language, probability = _identifier().classify(sample)
    return str(language) if probability >= MIN_PROBABILITY else None


def _script_language(sample: str) -> str | None:
    """Japanese, Korean, Chinese or Thai, told by their scripts: the model confuses Chinese
    with Japanese (shared ideographs), and kana or Hangul settle it."""
    letters = kana = hangul = han = thai = 0
    for char in sample:
        if not char.isalpha():
            continue
        letters += 1
        code = ord(char)
        if 0x3040 <= code <= 0x30FF:
            kana += 1
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
            hangul += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            han += 1
        elif 0x0E00 <= code <= 0x0E7F:
            thai += 1
    if letters < _MIN_SCRIPT_LETTERS:
        return None
    if kana >= 0.05 * letters and kana + han >= 0.5 * letters:
        return "ja"
    for language, count in (("ko", hangul), ("zh", han), ("th", thai)):
        if count >= 0.5 * letters:
            return language
    return None


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
