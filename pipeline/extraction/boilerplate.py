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

import hashlib
import re
from array import array
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from pipeline.extraction.agreement import WORD_RE

_SENTENCE_END_RE = re.compile(r"[.!?…\"”’»。！？」』]\s*$")


class BoilerplateLines:
    """Per-outlet memory of recent lines, and a filter for the ones that keep coming back.

    Typical use, for each new article of the outlet::

        text = lines.filter(article.text)   # drop the outlet's repeated lines
        lines.learn(article.text)           # then remember this page (the raw text)

    Lines are remembered as 64-bit hashes of their keys, a page as a compact array: a window of
    100 pages takes about 50 KB, so a crawl can hold the windows of thousands of outlets.
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
        self._pages: deque[array[int]] = deque(maxlen=window)

    @property
    def pages_seen(self) -> int:
        """How many pages the window holds now (at most ``window``)."""
        return len(self._pages)

    @property
    def pages(self) -> list[frozenset[int]]:
        """The window's pages, oldest first, as hashed line keys (what :meth:`learn_keys` takes)."""
        return [frozenset(page) for page in self._pages]

    def learn(self, text: str) -> None:
        """Remember the distinct lines of one page; the oldest page leaves a full window."""
        self.learn_keys(line_keys(text))

    def learn_keys(self, keys: Iterable[int]) -> None:
        """:meth:`learn` for a page whose lines were already turned into hashed keys."""
        self._pages.append(array("Q", sorted(set(keys))))

    def is_boilerplate(self, line: str) -> bool:
        """Whether ``line`` repeats on enough recent pages of the outlet to be boilerplate."""
        return self.rule().is_boilerplate(line)

    def filter(self, text: str) -> str:
        """``text`` without its boilerplate lines (or whole, see the module's safeguards)."""
        return self.rule().filter(text)

    def rule(self) -> BoilerplateRule:
        """What the window says now, frozen (counted afresh: callers take one every few pages)."""
        if self.pages_seen < self.min_pages:
            return BoilerplateRule(frozenset(), frozenset(), self.prose_words, 1.0)
        counts = Counter(chain.from_iterable(self._pages))
        prose_needed = max(self.min_pages, self.prose_share * self.pages_seen)
        repeated = {key: n for key, n in counts.items() if n >= self.min_pages}
        return BoilerplateRule(
            lines=frozenset(repeated),
            prose_lines=frozenset(k for k, n in repeated.items() if n >= prose_needed),
            prose_words=self.prose_words,
            max_removed_share=self.max_removed_share,
        )


@dataclass(frozen=True, slots=True)
class BoilerplateRule:
    """An outlet's boilerplate lines at one moment: immutable, picklable, cheap to apply.

    ``lines``: hashed keys of the lines seen on enough pages; ``prose_lines``: those of them
    frequent enough to be removed even when the line reads like a sentence.
    """

    lines: frozenset[int]
    prose_lines: frozenset[int]
    prose_words: int = 12
    max_removed_share: float = 0.5

    def __bool__(self) -> bool:
        return bool(self.lines)

    def is_boilerplate(self, line: str) -> bool:
        key = _key(line)
        return bool(key) and self._drops(line, key, key_hash(key))

    def _drops(self, line: str, key: str, hashed: int) -> bool:
        if hashed not in self.lines:
            return False
        if len(key.split()) >= self.prose_words and _SENTENCE_END_RE.search(line.strip()):
            return hashed in self.prose_lines
        return True

    def filter(self, text: str) -> str:
        """``text`` without its boilerplate lines, or whole when they would be most of it."""
        if not self.lines:
            return text
        lines = text.splitlines()
        keys = [_key(line) for line in lines]
        return self.filter_lines(text, lines, keys, [key_hash(k) if k else 0 for k in keys])

    def filter_lines(self, text: str, lines: list[str], keys: list[str], hashes: list[int]) -> str:
        """:meth:`filter` for a text already split into lines, their keys and key hashes."""
        kept = [
            line
            for line, key, hashed in zip(lines, keys, hashes, strict=True)
            if not (key and self._drops(line, key, hashed))
        ]
        if len(kept) == len(lines):
            return text
        total = len(WORD_RE.findall(text))
        removed = total - sum(len(WORD_RE.findall(line)) for line in kept)
        if total and removed > self.max_removed_share * total:
            return text
        return "\n".join(kept)


def line_keys(text: str) -> frozenset[int]:
    """The distinct hashed line keys of a text: what the window remembers of a page."""
    return frozenset(key_hash(key) for line in text.splitlines() if (key := _key(line)))


def key_hash(key: str) -> int:
    """A stable 64-bit hash of a line key (Python's own ``hash`` differs between processes)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def learn_and_filter(text: str, rule: BoilerplateRule | None) -> tuple[str, frozenset[int]]:
    """``text`` filtered by ``rule``, and its hashed line keys before filtering (each line keyed
    and hashed once)."""
    lines = text.splitlines()
    keys = [_key(line) for line in lines]
    hashes = [key_hash(key) if key else 0 for key in keys]
    filtered = rule.filter_lines(text, lines, keys, hashes) if rule else text
    return filtered, frozenset(h for key, h in zip(keys, hashes, strict=True) if key)


def _key(line: str) -> str:
    return " ".join(WORD_RE.findall(line.casefold()))
