"""Lines that repeat across many recent pages of one outlet: "Read more", newsletter promos.

One page cannot tell its promo from its prose; the outlet's other pages can. ``BoilerplateLines``
remembers which lines the last ``window`` articles of one outlet contained and removes, from a new
text, the lines that were on at least ``min_pages`` of them. Keep one instance per outlet (the
pipeline owns that state; this module does no I/O).

Safeguards, so real sentences that happen to repeat survive:

- a line that reads like prose (``prose_words`` words or more, ending like a sentence), say a quote
  or a background paragraph reused by a running story, must be on ``prose_share`` of the window,
  not just on ``min_pages`` pages;
- nothing is removed before ``min_pages`` pages were seen;
- if the rule would remove more than ``max_removed_share`` of a text's words, the text is left
  whole: that page is unusual (a list, a live blog), not mostly boilerplate.
"""

from __future__ import annotations

import re
from collections import Counter, deque

from pipeline.extraction.agreement import WORD_RE

_SENTENCE_END_RE = re.compile(r"[.!?…\"”’»。！？」』]\s*$")


class BoilerplateLines:
    """Per-outlet memory of recent lines, and a filter for the ones that keep coming back.

    Typical use, for each new article of the outlet::

        text = lines.filter(article.text)   # drop the outlet's repeated lines
        lines.learn(article.text)           # then remember this page (the raw text)
    """

    def __init__(
        self,
        *,
        window: int = 100,
        min_pages: int = 5,
        prose_words: int = 12,
        prose_share: float = 0.3,
        max_removed_share: float = 0.5,
    ) -> None:
        if window < 1 or min_pages < 2:
            raise ValueError("window must be >= 1 and min_pages >= 2")
        self.window = window
        self.min_pages = min_pages
        self.prose_words = prose_words
        self.prose_share = prose_share
        self.max_removed_share = max_removed_share
        self._pages: deque[frozenset[str]] = deque()
        self._counts: Counter[str] = Counter()

    @property
    def pages_seen(self) -> int:
        """How many pages the window holds now (at most ``window``)."""
        return len(self._pages)

    def learn(self, text: str) -> None:
        """Remember the distinct lines of one page; the oldest page leaves a full window."""
        keys = frozenset(key for line in text.splitlines() if (key := _key(line)))
        self._pages.append(keys)
        self._counts.update(keys)
        if len(self._pages) > self.window:
            self._counts.subtract(self._pages.popleft())
            self._counts += Counter()  # drop the zero counts

    def is_boilerplate(self, line: str) -> bool:
        """Whether ``line`` repeats on enough recent pages of the outlet to be boilerplate."""
        key = _key(line)
        if not key or self.pages_seen < self.min_pages:
            return False
        needed: float = self.min_pages
        if len(key.split()) >= self.prose_words and _SENTENCE_END_RE.search(line.strip()):
            needed = max(needed, self.prose_share * self.pages_seen)
        return self._counts[key] >= needed

    def filter(self, text: str) -> str:
        """``text`` without its boilerplate lines (or whole, see the module's safeguards)."""
        lines = text.splitlines()
        kept = [line for line in lines if not self.is_boilerplate(line)]
        if len(kept) == len(lines):
            return text
        total = len(WORD_RE.findall(text))
        removed = total - sum(len(WORD_RE.findall(line)) for line in kept)
        if total and removed > self.max_removed_share * total:
            return text
        return "\n".join(kept)


def _key(line: str) -> str:
    return " ".join(WORD_RE.findall(line.casefold()))
