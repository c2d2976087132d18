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

What the window has learned changes with every page, so a crawl filters with a frozen
:class:`BoilerplateRule` taken from it: a page and the stored text it is compared with must be
filtered by the same rule, or a newly learned line would look like an edit.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

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

    @property
    def pages(self) -> list[frozenset[str]]:
        """The window's pages, oldest first, as line keys (what :meth:`learn_keys` takes)."""
        return list(self._pages)

    def learn(self, text: str) -> None:
        """Remember the distinct lines of one page; the oldest page leaves a full window."""
        self.learn_keys(line_keys(text))

    def learn_keys(self, keys: Iterable[str]) -> None:
        """:meth:`learn` for a page whose lines were already turned into keys."""
        keys = frozenset(keys)
        self._pages.append(keys)
        self._counts.update(keys)
        if len(self._pages) > self.window:
            for key in self._pages.popleft():  # O(lines of one page), not of the whole window
                left = self._counts[key] - 1
                if left:
                    self._counts[key] = left
                else:
                    del self._counts[key]

    def is_boilerplate(self, line: str) -> bool:
        """Whether ``line`` repeats on enough recent pages of the outlet to be boilerplate."""
        return self.rule().is_boilerplate(line)

    def filter(self, text: str) -> str:
        """``text`` without its boilerplate lines (or whole, see the module's safeguards)."""
        return self.rule().filter(text)

    def rule(self) -> BoilerplateRule:
        """What the window says now, frozen."""
        if self.pages_seen < self.min_pages:
            return BoilerplateRule(frozenset(), frozenset(), self.prose_words, 1.0)
        prose_needed = max(self.min_pages, self.prose_share * self.pages_seen)
        repeated = frozenset(k for k, n in self._counts.items() if n >= self.min_pages)
        return BoilerplateRule(
            lines=repeated,
            prose_lines=frozenset(k for k in repeated if self._counts[k] >= prose_needed),
            prose_words=self.prose_words,
            max_removed_share=self.max_removed_share,
        )


@dataclass(frozen=True, slots=True)
class BoilerplateRule:
    """An outlet's boilerplate lines at one moment: immutable, picklable, cheap to apply.

    ``lines``: keys of the lines seen on enough pages; ``prose_lines``: those of them frequent
    enough to be removed even when the line reads like a sentence.
    """

    lines: frozenset[str]
    prose_lines: frozenset[str]
    prose_words: int = 12
    max_removed_share: float = 0.5

    def __bool__(self) -> bool:
        return bool(self.lines)

    def is_boilerplate(self, line: str) -> bool:
        return self._drops(line, _key(line))

    def _drops(self, line: str, key: str) -> bool:
        if key not in self.lines:
            return False
        if len(key.split()) >= self.prose_words and _SENTENCE_END_RE.search(line.strip()):
            return key in self.prose_lines
        return True

    def filter(self, text: str) -> str:
        """``text`` without its boilerplate lines, or whole when they would be most of it."""
        if not self.lines:
            return text
        return self.filter_lines(
            text, text.splitlines(), [_key(line) for line in text.splitlines()]
        )

    def filter_lines(self, text: str, lines: list[str], keys: list[str]) -> str:
        """:meth:`filter` for a text already split into lines and their keys."""
        kept = [line for line, key in zip(lines, keys, strict=True) if not self._drops(line, key)]
        if len(kept) == len(lines):
            return text
        total = len(WORD_RE.findall(text))
        removed = total - sum(len(WORD_RE.findall(line)) for line in kept)
        if total and removed > self.max_removed_share * total:
            return text
        return "\n".join(kept)


def line_keys(text: str) -> frozenset[str]:
    """The distinct line keys of a text: what the window remembers of a page."""
    return frozenset(key for line in text.splitlines() if (key := _key(line)))


def learn_and_filter(text: str, rule: BoilerplateRule | None) -> tuple[str, frozenset[str]]:
    """``text`` filtered by ``rule``, and its line keys before filtering (each line keyed once)."""
    lines = text.splitlines()
    keys = [_key(line) for line in lines]
    filtered = rule.filter_lines(text, lines, keys) if rule else text
    return filtered, frozenset(key for key in keys if key)


def _key(line: str) -> str:
    return " ".join(WORD_RE.findall(line.casefold()))
