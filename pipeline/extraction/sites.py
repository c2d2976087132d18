"""Per-outlet extraction overrides: where the body and the headline are, and what to cut first.

A ``SiteRules`` is built once per outlet from its config (``SiteRules.from_mapping``) and passed
to ``extract_article(..., rules=...)``. Selectors are CSS (``article .content``) unless they start
with ``/``, ``./`` or ``(``, which marks XPath (``//div[@itemprop="articleBody"]``), as in
NewsDiffs' and Fundus' per-site parsers. An outlet whose markup changes falls back to the generic
extractor: a body selector that matches nothing is ignored, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

_KEYS = ("body", "title", "drop")
_XPATH_PREFIXES = ("/", "./", "(")


@dataclass(frozen=True, slots=True)
class SiteRules:
    """Selectors for one outlet; each field is tried in order, and an empty one is skipped.

    Attributes:
        body: containers of the article text; the text of every element matched by the first
            selector that matches anything, in page order.
        title: the headline; the text of the first element matched, or the first string an XPath
            gives (``//meta[@property="og:title"]/@content``).
        drop: elements removed from the page before anything else (related links, promos).
    """

    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    _compiled: dict[str, tuple[etree.XPath, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for key in _KEYS:
            self._compiled[key] = tuple(_compile(key, s) for s in getattr(self, key))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SiteRules:
        """Build rules from a plain mapping, e.g. an outlet's ``[outlets.extract]`` table.

        Each key takes one selector or a list of them::

            {"body": "article .content", "title": "h1.headline", "drop": [".related"]}

        Raises:
            ValueError: an unknown key, a value that is not a string or a list of strings, or a
                selector that is neither valid CSS nor valid XPath. The message names the key.
        """
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ValueError(f"unknown extract key(s) {unknown}; expected {list(_KEYS)}")
        return cls(**{key: _selectors(key, data.get(key, ())) for key in _KEYS})

    def drop_elements(self, tree: HtmlElement) -> None:
        """Remove what ``drop`` matches from ``tree`` (in place); the tail text is kept."""
        for selector in self._compiled["drop"]:
            for element in _matches(selector, tree):
                if isinstance(element, HtmlElement) and element.getparent() is not None:
                    element.drop_tree()

    def body_elements(self, tree: HtmlElement) -> list[HtmlElement]:
        """The elements of the first ``body`` selector that matches, outermost only."""
        for selector in self._compiled["body"]:
            found = [e for e in _matches(selector, tree) if isinstance(e, HtmlElement)]
            if found:
                inside = {id(d) for e in found for d in e.iterdescendants()}
                return [e for e in found if id(e) not in inside]
        return []

    def title_text(self, tree: HtmlElement) -> str:
        """Text of the first element a ``title`` selector matches, or ""."""
        for selector in self._compiled["title"]:
            for match in _matches(selector, tree):
                if isinstance(match, HtmlElement):
                    value = match.text_content()
                elif isinstance(match, str):  # an attribute's value or a text() node
                    value = match
                else:  # a comment or processing instruction
                    continue
                text = " ".join(str(value).split())
                if text:
                    return text
        return ""


def _matches(selector: etree.XPath, tree: HtmlElement) -> list[Any]:
    """What ``selector`` finds, as a list: an XPath may also give one string, number or bool."""
    found = selector(tree)
    return found if isinstance(found, list) else [found]


def _selectors(key: str, value: Any) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"extract.{key} must be a selector or a list of selectors")
    return tuple(v.strip() for v in values if v.strip())


def _compile(key: str, selector: str) -> etree.XPath:
    try:
        if selector.startswith(_XPATH_PREFIXES):
            return etree.XPath(selector)
        return CSSSelector(selector, translator="html")
    except (etree.XPathSyntaxError, SelectorError, SyntaxError, ValueError) as error:
        # SelectorError: cssselect's syntax errors, and what it cannot turn into XPath
        # (pseudo-elements such as Scrapy's ``h1::text``)
        raise ValueError(f"extract.{key}: invalid selector {selector!r}: {error}") from error
