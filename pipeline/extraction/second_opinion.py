"""Second opinions on a page's article text: readability-lxml and a JSON-LD ``articleBody``.

trafilatura is the first opinion (``generic.py``). readability-lxml picks the article container by
a different method (paragraph scores bubbling up to their parents, siblings of the best container
merged in), so when it finds clearly more text that still contains trafilatura's, the article was
split over several containers and trafilatura kept only one.
"""

from __future__ import annotations

import logging
from copy import copy
from html import unescape
from typing import Any

import lxml.html
from lxml import etree
from lxml.etree import ParserError
from lxml.html import HtmlElement
from readability import Document as ReadabilityDocument
from readability.readability import REGEXES

from pipeline.extraction.agreement import WORD_RE

logger = logging.getLogger(__name__)

BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")
# readability keeps whatever sits in its container: photo captions and credits, bylines and
# timestamps, share bars. trafilatura drops those, and so does the ground truth of both benchmarks;
# pruning them raised readability's own F1 from 0.954 to 0.965 on extraction-bench.
_READABILITY_PRUNE = etree.XPath(
    ".//figure|.//figcaption|.//time|.//aside|.//nav|.//footer"
    "|.//*[contains(@class, 'caption') or contains(@class, 'byline') or contains(@class, 'credit')]"
)
# readability output with more link text than this share is a list of links, not prose.
_MAX_LINK_DENSITY = 0.5
# A JSON-LD body ending like this was cut short by the publisher (a teaser, not the article).
_TRUNCATION_MARKS = ("…", "...", "[…]", "[...]")


class _TreeReadability(ReadabilityDocument):  # type: ignore[misc]
    """readability-lxml on an already parsed tree, with a cheaper clean-up.

    ``Document(html)`` parses the page again and runs lxml's ``Cleaner``, which rewrites every
    link and spends about 40 % of readability's time on changes that do not touch the text.
    Stripping scripts, styles and ``<link>`` elements is the part that matters here; the tree
    comes from ``load_html``, which already dropped comments and processing instructions. Each
    pass starts from a fresh copy because readability edits the tree and may retry.
    """

    def _parse(self, input: HtmlElement) -> HtmlElement:  # readability names it "input"
        doc = copy(input)
        for element in doc.xpath("//*[@hidden]"):
            element.drop_tree()
        for element in doc.xpath("//*[@style]"):
            if REGEXES["displayNoneRe"].search(element.get("style")):
                element.drop_tree()
        etree.strip_elements(doc, "script", "style", "link", with_tail=False)
        return doc


def readability_text(tree: HtmlElement) -> str:
    """readability-lxml's article container as text, without captions, bylines and link lists.

    Returns "" when readability fails or its container is mostly link text.
    """
    try:
        summary = _TreeReadability(tree).summary(html_partial=True)
        fragment = lxml.html.fragment_fromstring(summary, create_parent="div")
    # readability.Unparseable is a ValueError; lxml asserts one <body> when the summary of a
    # <frameset> page has none
    except (ParserError, ValueError, TypeError, AssertionError) as error:
        logger.debug("readability failed: %s", error)
        return ""
    for element in _READABILITY_PRUNE(fragment):
        if element.getparent() is not None:
            element.drop_tree()
    text = element_text(fragment)
    link_text = sum(len(link.text_content()) for link in fragment.iter("a"))
    if not text or link_text > _MAX_LINK_DENSITY * len(text):
        return ""
    return text


def jsonld_body(tree: HtmlElement, articles: list[dict[str, Any]]) -> str:
    """The longest complete JSON-LD ``articleBody`` whose words also appear in the page.

    A body that ends in an ellipsis is a teaser and is left out; so is one whose words are mostly
    absent from the visible page (another article's body, or a paywalled full text).
    """
    bodies = [obj.get("articleBody") for obj in articles]
    texts = [html_to_text(unescape(body)) for body in bodies if isinstance(body, str)]
    texts = [text for text in texts if text and not text.rstrip().endswith(_TRUNCATION_MARKS)]
    if not texts:
        return ""
    visible = tree.xpath(".//body//text()[not(ancestor::script or ancestor::style)]")
    page_words = set(WORD_RE.findall(" ".join(visible)))
    consistent = [
        text
        for text in texts
        if (body_words := WORD_RE.findall(text))
        and sum(word in page_words for word in body_words) >= 0.5 * len(body_words)
    ]
    return max(consistent, key=len, default="")


def html_to_text(value: str) -> str:
    """Text of an HTML fragment (or of plain text), one block a line."""
    if "<" not in value:
        return clean_text(value)
    try:
        fragment = lxml.html.fragment_fromstring(value, create_parent="div")
    except (ParserError, ValueError, AssertionError):
        return clean_text(value)
    return element_text(fragment)


def element_text(element: HtmlElement) -> str:
    """Text of an element with a line break after each block, so paragraphs stay apart.

    Edits ``element`` (the tails of its blocks): pass a copy when the tree is still needed.
    """
    for block in element.iter(*BLOCK_TAGS):
        block.tail = "\n" + (block.tail or "")
    return clean_text(element.text_content())


def clean_text(text: str | None) -> str:
    """Strip every line and drop blank ones: paragraphs end up one per line."""
    lines = (line.strip() for line in (text or "").splitlines())
    return "\n".join(line for line in lines if line)
