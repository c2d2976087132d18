"""The generic extractor: trafilatura with one options object, plus publisher metadata.

Works for any site. Body text comes from trafilatura; when that finds too little, a complete
JSON-LD ``articleBody`` or readability-lxml gets a chance (see ``_fallback_text``).
"""

from __future__ import annotations

import logging
import re
from copy import copy
from datetime import UTC, datetime
from html import unescape
from typing import Any

import lxml.html
from lxml.etree import ParserError
from lxml.html import HtmlElement
from readability import Document as ReadabilityDocument
from trafilatura import bare_extraction
from trafilatura.settings import Document, Extractor

from pipeline.extraction import metadata
from pipeline.extraction.errors import ExtractionFailed
from pipeline.items import Article

logger = logging.getLogger(__name__)

# Fewer words than this is a teaser, a gallery caption or an error page, not an article. The
# shortest article in extraction-bench has 66 words; CJK characters count one word each.
MIN_WORDS = 25
# readability output with more link text than this share is a list of links, not prose.
_MAX_LINK_DENSITY = 0.5
# trafilatura falls back to the whole page text, so a page of menus comes out as a list of link
# labels. Text with more than this share of its words on lines that are a link's whole label is
# navigation; the highest share among the 890 benchmark articles was 0.32.
_MAX_LINK_LABEL_SHARE = 0.6

# Built once: balanced precision/recall, comments off (they would look like edits of the
# article and lower F1), tables kept, metadata on. ``url`` and ``date_params`` change per page,
# so each call works on a shallow copy (see ``_options_for``).
OPTIONS = Extractor(
    output_format="python",
    comments=False,
    tables=True,
    with_metadata=True,
)

_WORD_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")


def extract_generic(tree: HtmlElement, html: str, url: str | None = None) -> Article:
    """Extract the article of a parsed page.

    Args:
        tree: the page parsed by ``trafilatura.utils.load_html`` (left unchanged).
        html: the same page as text, for readability-lxml, which parses it itself.
        url: the page URL, used for relative links and URL date patterns.

    Returns:
        The article, with at least ``MIN_WORDS`` words of text.

    Raises:
        ExtractionFailed: no text, or too little to be an article.
    """
    document = bare_extraction(tree, options=_options_for(url))
    if document is None:
        document = Document()
    elif not isinstance(document, Document):
        raise TypeError(f"unexpected trafilatura result {type(document)!r}")
    articles = metadata.jsonld_articles(metadata.jsonld_objects(tree))
    title = document.title or metadata.page_title(tree)
    text = drop_title_line(clean_text(document.text), title)
    if count_words(text) < MIN_WORDS:
        text = drop_title_line(_fallback_text(tree, html, articles) or text, title)
    words = count_words(text)
    if words == 0:
        raise ExtractionFailed("no article text")
    if words < MIN_WORDS:
        raise ExtractionFailed(f"text too short ({words} words)")
    if link_label_share(tree, text) > _MAX_LINK_LABEL_SHARE:
        raise ExtractionFailed("only navigation links")
    return _build_article(document, tree, title, text, articles, url)


def count_words(text: str) -> int:
    """``\\w+`` words, each CJK ideograph or kana counting as one (those scripts use no spaces)."""
    return len(_WORD_RE.findall(text))


def clean_text(text: str | None) -> str:
    """Strip every line and drop blank ones: paragraphs end up one per line."""
    lines = (line.strip() for line in (text or "").splitlines())
    return "\n".join(line for line in lines if line)


def drop_title_line(text: str, title: str) -> str:
    """Remove a first line that repeats the title: the headline is ``Article.title``, not text.

    On extraction-bench this raised F1 by 0.0024 (36 pages), on wcxb-dev-articles by 0.0006.
    """
    first, _, rest = text.partition("\n")
    if title and rest and _normalized(first) == _normalized(title):
        return rest
    return text


def link_label_share(tree: HtmlElement, text: str) -> float:
    """Share of the words of ``text`` on lines that repeat the whole label of a link in ``tree``."""
    labels = {_normalized(link.text_content()) for link in tree.iter("a")} - {""}
    total = link_words = 0
    for line in text.splitlines():
        words = len(_WORD_RE.findall(line))
        total += words
        if _normalized(line) in labels:
            link_words += words
    return link_words / total if total else 0.0


def split_authors(value: str | None) -> list[str]:
    """trafilatura's ``"A; B"`` author string as a list, without blanks or repeats."""
    authors: list[str] = []
    for name in (value or "").split(";"):
        name = name.strip()
        if name and name.casefold() not in {seen.casefold() for seen in authors}:
            authors.append(name)
    return authors


def _normalized(text: str) -> str:
    return " ".join(_WORD_RE.findall(text.casefold()))


def _options_for(url: str | None) -> Extractor:
    # A shallow copy keeps OPTIONS shared; htmldate's max_date must follow the clock, or a
    # long-lived worker would drop every date after the day it started.
    options = copy(OPTIONS)
    options.url = options.source = url
    options.date_params = {**OPTIONS.date_params, "max_date": datetime.now(UTC).date().isoformat()}
    return options


def _build_article(
    document: Document,
    tree: HtmlElement,
    title: str,
    text: str,
    articles: list[dict[str, Any]],
    url: str | None,
) -> Article:
    return Article(
        title=title,
        text=text,
        authors=split_authors(document.author),
        published_at=metadata.published_at(tree, articles) or metadata.parse_date(document.date),
        modified_at=metadata.modified_at(tree, articles),
        language=metadata.normalize_language(document.language) or metadata.page_language(tree),
        site_name=document.sitename or None,
        canonical_url=metadata.canonical_url(tree, url),
        description=document.description or None,
    )


def _fallback_text(tree: HtmlElement, html: str, articles: list[dict[str, Any]]) -> str | None:
    """A JSON-LD ``articleBody`` or readability-lxml text, when either is long enough.

    The JSON-LD body is only a fallback: on extraction-bench it was often truncated (about 80
    words) or held markup, and it lost to trafilatura on every page where both had text.
    """
    candidates = [_jsonld_body(tree, articles), _readability_text(html)]
    long_enough = [text for text in candidates if count_words(text) >= MIN_WORDS]
    return max(long_enough, key=count_words, default=None)


def _jsonld_body(tree: HtmlElement, articles: list[dict[str, Any]]) -> str:
    """The longest JSON-LD ``articleBody`` whose words also appear in the page."""
    bodies = [obj.get("articleBody") for obj in articles]
    texts = [_html_to_text(unescape(body)) for body in bodies if isinstance(body, str)]
    if not texts:
        return ""
    visible = tree.xpath(".//body//text()[not(ancestor::script or ancestor::style)]")
    page_words = set(_WORD_RE.findall(" ".join(visible)))
    consistent = [
        text
        for text in texts
        if (words := _WORD_RE.findall(text))
        and sum(word in page_words for word in words) >= 0.5 * len(words)
    ]
    return max(consistent, key=len, default="")


def _readability_text(html: str) -> str:
    """readability-lxml's main block as text, or "" when it is mostly links or fails."""
    try:
        summary = ReadabilityDocument(html).summary(html_partial=True)
        fragment = lxml.html.fragment_fromstring(summary, create_parent="div")
    except (ParserError, ValueError, TypeError) as error:
        logger.debug("readability failed: %s", error)
        return ""
    text = _element_text(fragment)
    link_text = sum(len(link.text_content()) for link in fragment.iter("a"))
    if not text or link_text > _MAX_LINK_DENSITY * len(text):
        return ""
    return text


def _html_to_text(value: str) -> str:
    if "<" not in value:
        return clean_text(value)
    try:
        fragment = lxml.html.fragment_fromstring(value, create_parent="div")
    except (ParserError, ValueError):
        return clean_text(value)
    return _element_text(fragment)


def _element_text(element: HtmlElement) -> str:
    """Text of an element with a line break after each block, so paragraphs stay apart."""
    for block in element.iter(*_BLOCK_TAGS):
        block.tail = "\n" + (block.tail or "")
    return clean_text(element.text_content())
