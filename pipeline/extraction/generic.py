"""The generic extractor: trafilatura first, second opinions when it may have missed text, clean-up.

Works for any site (``SiteRules`` can point at the body instead). The steps, each measured on
both development sets (``bench/README.md``):

1. trafilatura with comments off and metadata off, first without its own fallbacks and in recall
   mode (``FAST_OPTIONS``: keeps the lists of pages without an article container, +0.0037 F1 on
   wcxb, -0.0008 on extraction-bench), then with its fallbacks (``OPTIONS``) only when the fast
   pass returned a small share of the page's paragraph text, the page's menus, or the page has no
   paragraph text at all (+0.0007 on wcxb, ±0 on extraction-bench). The metadata is read from
   the same parsed tree (``metadata.py``), without trafilatura's slowest searches;
2. a second opinion, when the page holds more paragraph text than trafilatura returned: a
   complete JSON-LD ``articleBody`` and readability-lxml (``second_opinion.py``). One replaces
   trafilatura's text when it is clearly longer *and* contains it: the article was split over
   several containers, or trafilatura stopped at a heading. When one does and only the fast pass
   ran, trafilatura's full cascade runs too and competes on the same terms (+0.0005 on wcxb, ±0
   on extraction-bench; 28 and 6 more pages through the cascade). When readability agrees on the
   article but stops earlier, the lines after its end are dropped;
3. line clean-up (``cleanup.py``): cookie notices, trailing links to other articles, blocks
   rendered twice, the headline, pointers to other articles, labels, datelines and promotions at
   the edges.
"""

from __future__ import annotations

import logging
from copy import copy
from typing import Any

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document, Extractor

from pipeline.extraction import cleanup, metadata
from pipeline.extraction.agreement import coverage, shingle_set, trim_unconfirmed_tail
from pipeline.extraction.authors import clean_authors
from pipeline.extraction.errors import ExtractionFailed
from pipeline.extraction.language import article_language
from pipeline.extraction.second_opinion import (
    clean_text,
    element_text,
    jsonld_body,
    readability_text,
)
from pipeline.extraction.sites import SiteRules
from pipeline.items import Article
from pipeline.words import count_words, has_words

logger = logging.getLogger(__name__)

# Fewer words than this is a teaser, a gallery caption or an error page, not an article. The
# shortest article in extraction-bench has 66 words; CJK characters count one word each.
MIN_WORDS = 25
# trafilatura falls back to the whole page text, so a page of menus comes out as a list of link
# labels. Text with more than this share of its words on lines that are a link's whole label is
# navigation; the highest share among the 890 benchmark articles was 0.32.
_MAX_LINK_LABEL_SHARE = 0.6
# Lines longer than this are prose, never a link's label.
_MAX_LABEL_WORDS = 30
# A second opinion replaces trafilatura's text when it has this many times as many words and
# holds at least this share of trafilatura's text (4-word shingles). Swept 1.1-2.0 and 0.7-0.95:
# flat between 1.2-1.5 and 0.8-0.9 on both sets and on both halves of each.
_LONGER_BY = 1.2
_CONTAINS_SHARE = 0.8
# Paragraph text outside navigation, the measure of what trafilatura may have missed.
_PARAGRAPHS = XPath(
    ".//p[not(ancestor::nav or ancestor::footer or ancestor::header or ancestor::aside)]"
)

# Links whose label has at least ``$chars`` characters.
_LINKS_AT_LEAST = XPath(".//a[string-length(.) >= $chars]")

# When trafilatura's fast pass returns less than this share of the page's paragraph text, or the
# page has no paragraph text at all (its article is in <div>s or <td>s, where the fast pass may
# have missed most of it), its full cascade runs too (on about 6 % of the benchmark pages).
_RESCUE_SHARE = 0.25

# ... and when the fast pass looks like the page's menus: more than this share of its words on
# lines that are whole link labels (menus have buttons and headings that are not links).
_RESCUE_LINK_LABEL_SHARE = 0.5

# Built once: comments off (they would look like edits of the article and lower F1), tables
# kept, metadata off (see metadata.py). ``FAST_OPTIONS`` skips trafilatura's own fallbacks,
# ``OPTIONS`` runs them. ``url`` changes per page, so each call works on a shallow copy (see
# ``_options_for``).
OPTIONS = Extractor(output_format="python", comments=False, tables=True, with_metadata=False)
# The fast pass favours recall. That changes the text only on pages where trafilatura finds no
# article container (83 of 709 wcxb pages, 11 of 181 extraction-bench ones) and falls back to
# collecting loose paragraphs: in recall mode that fallback also keeps lists and text-bearing
# <div>s, which the balanced mode drops with the headings around them (+0.029 mean F1 on those
# wcxb pages, -0.013 on those of extraction-bench). It costs no more time.
FAST_OPTIONS = Extractor(
    output_format="python",
    comments=False,
    tables=True,
    with_metadata=False,
    fast=True,
    recall=True,
)


def extract_generic(
    tree: HtmlElement, url: str | None = None, rules: SiteRules | None = None
) -> Article:
    """Extract the article of a parsed page.

    Args:
        tree: the page parsed by ``trafilatura.utils.load_html``; ``rules.drop`` edits it.
        url: the page URL, used for relative links and URL date patterns.
        rules: the outlet's selectors, if it has any.

    Returns:
        The article, with at least ``MIN_WORDS`` words of text.

    Raises:
        ExtractionFailed: no text, or too little to be an article.
    """
    fields = metadata.page_fields(tree)
    articles = metadata.jsonld_articles(metadata.jsonld_objects(tree))
    titles = metadata.title_candidates(tree)
    title = (rules.title_text(tree) if rules else "") or fields.title or metadata.page_title(tree)
    published = metadata.published_at(tree, articles)
    if published is None and (day := metadata.guessed_date(tree, url)) is not None:
        published = metadata.time_on_day(tree, day) or day
    article = Article(
        title=title,
        text="",
        authors=split_authors(fields.author),
        published_at=published,
        modified_at=metadata.modified_at(tree, articles),
        language=metadata.page_language(tree),
        site_name=fields.sitename or None,
        canonical_url=metadata.canonical_url(tree, url),
        description=fields.description or None,
    )
    if rules is not None:
        rules.drop_elements(tree)
    text = _rules_text(tree, rules)
    if text:
        _check_not_navigation(tree, text)
    else:
        text = article_text(tree, url, articles)
    labels = link_labels(tree, cleanup.tail_candidates(text))
    article.text = cleanup.tidy(text, [title, *titles], labels)
    if not has_words(article.text, MIN_WORDS):
        raise ExtractionFailed(f"text too short ({count_words(article.text)} words)")
    stated = article.language or metadata.jsonld_language(articles)
    article.language = article_language(stated, article.text)
    return article


def article_text(tree: HtmlElement, url: str | None, articles: list[dict[str, Any]]) -> str:
    """trafilatura's text, or a second opinion that contains it and says clearly more.

    When readability ran and agrees on the article, the lines it does not have at the end of the
    chosen text are dropped (``trim_unconfirmed_tail``: +0.0004 F1 on wcxb, +0.0001 on
    extraction-bench, both halves of each).

    Raises:
        ExtractionFailed: the chosen text is empty or only navigation links.
    """
    text = first = _trafilatura_text(tree, url, FAST_OPTIONS)
    words = count_words(text)
    paragraph_words = _paragraph_words(tree)
    navigation = _looks_like_navigation(tree, text, _RESCUE_LINK_LABEL_SHARE)
    short = words < MIN_WORDS or words < _RESCUE_SHARE * paragraph_words
    unchecked = paragraph_words == 0  # no <p> text to tell whether the fast pass missed some
    if short or navigation or unchecked:
        # trafilatura's own fallbacks (its readability port, justext, a recall retry) rescue the
        # pages where its fast pass took the wrong block (too little, or the page's menus);
        # they cost 40 % more, so only here.
        rescued = _trafilatura_text(tree, url, OPTIONS)
        rescued_words = count_words(rescued)
        # with nothing to say the fast pass fell short, the rescue must say clearly more
        needed = _LONGER_BY * words if unchecked and not short else words
        if rescued_words > needed or (
            navigation
            and rescued_words >= MIN_WORDS
            and not _looks_like_navigation(tree, rescued, _RESCUE_LINK_LABEL_SHARE)
        ):
            text, words = rescued, rescued_words
    readability = readability_text(tree) if words < MIN_WORDS or paragraph_words > words else ""
    opinions = [jsonld_body(tree, articles), readability]
    if words < MIN_WORDS:
        chosen = max([*opinions, text], key=count_words)
    else:
        longer = [other for other in opinions if _says_more_and_contains(other, text, words)]
        if longer and text is first:
            # a second opinion found more of the article than the fast pass: trafilatura's
            # full cascade may find all of it (wcxb: one page, recall 0.37 -> 0.98)
            rescued = _trafilatura_text(tree, url, OPTIONS)
            if _says_more_and_contains(rescued, text, words):
                longer.append(rescued)
        chosen = trim_unconfirmed_tail(max(longer, key=count_words, default=text), readability)
    # the fast pass's text was found not to be menus at a lower bar already
    if chosen is not first or navigation or not words:
        _check_not_navigation(tree, chosen)
    return chosen


def _says_more_and_contains(other: str, text: str, words: int) -> bool:
    """``other`` has clearly more words than ``text`` (of ``words`` words) and holds most of it."""
    return (
        count_words(other) > _LONGER_BY * words
        and coverage(text, shingle_set(other)) >= _CONTAINS_SHARE
    )


def link_label_share(tree: HtmlElement, text: str) -> float:
    """Share of the words of ``text`` on lines that repeat the whole label of a link in ``tree``."""
    lines = [(cleanup.normalized(line), count_words(line)) for line in text.splitlines()]
    total = sum(words for _, words in lines)
    labels = link_labels(tree, {key for key, _ in lines if key})
    link_words = sum(words for key, words in lines if key in labels)
    return link_words / total if total else 0.0


def link_labels(tree: HtmlElement, keys: set[str]) -> set[str]:
    """The ``keys`` (``cleanup.normalized`` lines) that are a link's whole label in ``tree``."""
    if not keys:
        return set()
    # a label much longer than every key, or shorter than all, cannot equal one: skip normalizing
    # it (normalizing only drops punctuation and spaces)
    longest = 2 * max(len(key) for key in keys) + 40
    labels: set[str] = set()
    for link in _LINKS_AT_LEAST(tree, chars=min(len(key) for key in keys)):
        label = link.text_content()
        if len(label) <= longest and (key := cleanup.normalized(label)) in keys:
            labels.add(key)
    return labels


def _short_line_share(text: str) -> float:
    """Share of the words of ``text`` on lines of at most ``_MAX_LABEL_WORDS`` words."""
    counts = [count_words(line) for line in text.splitlines()]
    total = sum(counts)
    return sum(c for c in counts if c <= _MAX_LABEL_WORDS) / total if total else 0.0


def split_authors(value: str | None) -> list[str]:
    """trafilatura's ``"A; B"`` author string as a list of clean names (``clean_authors``)."""
    return clean_authors((value or "").split(";"))


def _trafilatura_text(tree: HtmlElement, url: str | None, options: Extractor) -> str:
    document = bare_extraction(tree, options=_options_for(options, url))
    if document is None:
        return ""
    if not isinstance(document, Document):
        raise TypeError(f"unexpected trafilatura result {type(document)!r}")
    return clean_text(document.text)


def _rules_text(tree: HtmlElement, rules: SiteRules | None) -> str:
    if rules is None:
        return ""
    elements = rules.body_elements(tree)
    if not elements:
        if rules.body:
            logger.debug("no element matches the outlet's body selectors %s", rules.body)
        return ""
    parts = []
    for element in elements:
        element = copy(element)
        for noise in element.xpath(".//script|.//style|.//noscript|.//template"):
            noise.drop_tree()
        parts.append(element_text(element))
    return "\n".join(part for part in parts if part)


def _paragraph_words(tree: HtmlElement) -> int:
    return count_words(" ".join(p.text_content() for p in _PARAGRAPHS(tree)))


def _looks_like_navigation(
    tree: HtmlElement, text: str, share: float = _MAX_LINK_LABEL_SHARE
) -> bool:
    # Link labels are short: reading every link of the page is only worth it for a text
    # made mostly of short lines.
    return _short_line_share(text) > share and link_label_share(tree, text) > share


def _check_not_navigation(tree: HtmlElement, text: str) -> None:
    if count_words(text) == 0:
        raise ExtractionFailed("no article text")
    if _looks_like_navigation(tree, text):
        raise ExtractionFailed("only navigation links")


def _options_for(shared: Extractor, url: str | None) -> Extractor:
    # A shallow copy keeps the shared options untouched.
    options = copy(shared)
    options.url = options.source = url
    return options
