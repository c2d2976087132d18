"""Each outlet's repeated lines during a crawl: the window it learns from, the rule it applies.

The window (:class:`~pipeline.extraction.boilerplate.BoilerplateLines`) learns from every new
article of the outlet; pages are filtered with a frozen rule taken from it every
``refresh`` learned pages, and each page keeps the rule it was filtered with, so that storage
compares it with the stored text under that same rule. Windows are loaded before a crawl and
saved after it (``storage.boilerplate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pipeline.extraction.boilerplate import BoilerplateLines, BoilerplateRule
from pipeline.extraction.cleanup import drop_volatile_lines

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Page = frozenset[int]  # a page's hashed line keys


class RepeatedLines:
    """The windows and current rules of the outlets of one crawl."""

    def __init__(self, stored: Mapping[str, list[Page]], *, refresh: int = 10) -> None:
        self.refresh = refresh
        self._windows: dict[str, BoilerplateLines] = {}
        self._rules: dict[str, BoilerplateRule] = {}
        self._learned: dict[str, int] = {}
        self._first: dict[str, BoilerplateRule] = {}  # each outlet's first rule of the crawl
        for outlet, pages in stored.items():
            window = self._window(outlet)
            for page in pages[-window.window :]:
                window.learn_keys(page)

    def rule(self, outlet: str) -> BoilerplateRule | None:
        """The rule to filter the outlet's next page with (None: nothing learned to remove)."""
        rule = self._rules.get(outlet)
        if rule is None:
            rule = self._rules[outlet] = self._window(outlet).rule()
            self._first.setdefault(outlet, rule)
        return rule or None

    def learn(self, outlet: str, keys: Page) -> None:
        """Remember a new article's lines; the rule follows every ``refresh`` pages."""
        self._window(outlet).learn_keys(keys)
        learned = self._learned[outlet] = self._learned.get(outlet, 0) + 1
        if learned % self.refresh == 0 or self._window(outlet).pages_seen <= self.refresh:
            self._rules.pop(outlet, None)

    def grown(self) -> dict[str, BoilerplateRule]:
        """The outlets whose rule gained lines during the crawl, with their rule now.

        Their pages filtered before then kept those lines: a first crawl of an outlet hands
        out its first pages before the window has seen any page.
        """
        grown = {}
        for outlet in self._learned:
            now = self._window(outlet).rule()
            first = self._first.get(outlet)
            if (
                first is None
                or not now.lines <= first.lines
                or not now.prose_lines <= first.prose_lines
            ):
                grown[outlet] = now
        return {outlet: rule for outlet, rule in grown.items() if rule}

    def changed(self) -> dict[str, list[Page]]:
        """The windows of the outlets that learned something this crawl, to be stored."""
        return {outlet: self._windows[outlet].pages for outlet in self._learned}

    def _window(self, outlet: str) -> BoilerplateLines:
        window = self._windows.get(outlet)
        if window is None:
            window = self._windows[outlet] = BoilerplateLines()
        return window


def outlet_rule(session: Session, outlet: str) -> BoilerplateRule | None:
    """The outlet's repeated lines as its stored window has them now (None: none learned)."""
    from storage.boilerplate import boilerplate_windows

    return RepeatedLines(boilerplate_windows(session, [outlet])).rule(outlet)


def comparable_text(text: str, rule: BoilerplateRule | None) -> str:
    """A stored text as versions are compared: without the outlet's repeated lines and the
    volatile lines (counters, ads) of texts stored before those rules existed. A line learned
    to be boilerplate after a version was stored is then no edit in a diff either."""
    return drop_volatile_lines(rule.filter(text) if rule else text)
