"""Page metadata: headline, authors, site, full timestamps, language, canonical URL, JSON-LD.

Publishers state most of it in ``<meta>`` and JSON-LD, read here from the parsed tree with
trafilatura's meta-tag and JSON-LD readers. Two of trafilatura's searches are left out because
they cost as much as the text extraction itself: the byline search over the whole page (about
9 ms a page; authors come from meta tags, JSON-LD and microdata, else from the element marked
as the byline, when it holds nothing but names) and htmldate's extensive date search (a plain
htmldate search runs only when the publisher states no timestamp).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title
from trafilatura.settings import Document

logger = logging.getLogger(__name__)

# Article-level schema.org types whose dates and body describe the page itself.
_ARTICLE_TYPE_RE = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting|Posting)$")
_LANG_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$")
# A publisher timestamp earlier than this is a placeholder (e.g. 1970-01-01 from a zero epoch).
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
_AUTHOR_MICRODATA = XPath(
    './/*[@itemprop="author"][not(contains(@class, "comment") or ancestor-or-self::*['
    'contains(@itemtype, "Comment") or @itemprop="comment" or contains(@class, "comment")'
    ' or contains(@id, "comment")])]'
)
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "datepublished",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "dcterms.created",
    "parsely-pub-date",
    "sailthru.date",
    "publish-date",
    "publish_date",
    "article.published",
    "originalpublicationdate",
    "dc.date",
    "dcterms.date",
    "date",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
)


def page_fields(tree: HtmlElement) -> Document:
    """Headline, authors, site name and description from meta tags and JSON-LD (trafilatura's).

    Falls back to trafilatura's title search (``<h1>``, ``<title>``) and site-name search; the
    ``author`` field is empty when the publisher states no author in meta data.
    """
    fields = examine_meta(tree)
    if fields.author and " " not in fields.author:  # a handle or a site name, as trafilatura says
        fields.author = None
    try:
        fields = extract_meta_json(tree, fields)
    except Exception as error:  # trafilatura's JSON-LD reader has known bugs
        logger.debug("JSON-LD metadata failed: %s", error)
    if not fields.author:
        fields.author = _microdata_author(tree) or _byline_author(tree)
    if not fields.title:
        fields.title = extract_title(tree)
    if not fields.sitename:
        fields.sitename = extract_sitename(tree)
    if fields.sitename:
        # as trafilatura does: a Twitter handle loses its "@", a lower-case name is capitalized
        fields.sitename = fields.sitename.lstrip("@")
        if fields.sitename and "." not in fields.sitename and not fields.sitename[0].isupper():
            fields.sitename = fields.sitename.title()
    return fields


def title_candidates(tree: HtmlElement) -> list[str]:
    """Every headline the page states: ``og:title``, ``twitter:title``, ``<title>``, ``<h1>``."""
    candidates = [
        meta_content(tree, "og:title"),
        meta_content(tree, "twitter:title"),
        tree.findtext(".//title"),
        *(h1.text_content() for h1 in tree.iter("h1")),
    ]
    return [title for title in (" ".join(str(c or "").split()) for c in candidates) if title]


def guessed_date(tree: HtmlElement, url: str | None) -> datetime | None:
    """Publication day found by htmldate (URL, ``<time>``, text patterns), as midnight UTC.

    For pages whose publisher states no timestamp; htmldate's extensive search is left out.
    """
    try:
        found = find_date(
            tree,
            url=url,
            original_date=True,
            extensive_search=False,
            max_date=datetime.now(UTC).date().isoformat(),
        )
    except (ValueError, TypeError) as error:
        logger.debug("htmldate failed: %s", error)
        return None
    return parse_date(found)


def meta_content(tree: HtmlElement, *names: str) -> str | None:
    """First non-empty ``content`` of a ``<meta>`` whose property/name/itemprop is in ``names``.

    ``names`` are matched case-insensitively and tried in the order given.
    """
    return next(iter(meta_contents(tree, *names)), None)


def meta_contents(tree: HtmlElement, *names: str) -> list[str]:
    """Every ``names``' non-empty ``content`` (the first of each name), in the order given."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            # itemprop and property may hold several tokens: "datePublished dateCreated"
            for key in (meta.get(attr) or "").lower().split():
                found.setdefault(key, content)
    return [found[name] for name in names if name in found]


def jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON object in the page's ``application/ld+json`` scripts, ``@graph`` flattened."""
    objects: list[dict[str, Any]] = []
    for script in tree.xpath('.//script[contains(@type, "ld+json")]'):
        data = _lenient_json(script.text or "")
        if data is None:
            logger.debug("skipping invalid JSON-LD block")
            continue
        objects.extend(_flatten(data))
    return objects


_TRAILING_COMMA = re.compile(r",\s*([\]}])")
_WRAPPER = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")


def _lenient_json(text: str) -> Any:
    """JSON as publishers write it: trailing commas (``["a", "b", ]``) and comment or CDATA
    wrappers are common enough in JSON-LD that a strict parser loses the article's dates."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    repaired = _TRAILING_COMMA.sub(r"\1", _WRAPPER.sub("", text))
    try:
        return json.loads(repaired, strict=False)
    except ValueError:
        return None


def jsonld_articles(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON-LD objects typed as an article (NewsArticle, BlogPosting, ...)."""
    return [obj for obj in objects if any(_ARTICLE_TYPE_RE.search(t) for t in _types(obj))]


def published_at(tree: HtmlElement, articles: list[dict[str, Any]]) -> datetime | None:
    """Publication timestamp stated by the publisher (meta tags, JSON-LD, microdata)."""
    candidates: list[str | None] = [*meta_contents(tree, *_PUBLISHED_META)]
    candidates += [str(obj.get("datePublished") or "") for obj in articles]
    candidates += _microdata_datetimes(tree, "datePublished")
    return first_timestamp(candidates)


def time_on_day(tree: HtmlElement, day: datetime) -> datetime | None:
    """The earliest ``<time datetime>`` in the article (not in comments, asides, navigation or
    footers) that falls on ``day``: the time of day of a publication date found without one.
    Only on that day, and the earliest: the first element is as often an "Updated" time, and a
    live blog lists its newest entry first."""
    found = [
        parsed
        for parsed in map(parse_timestamp, _ARTICLE_TIME(tree))
        if parsed is not None and day.date() in (parsed.date(), parsed.astimezone(UTC).date())
    ]
    return min(found, key=lambda t: t.astimezone(UTC)) if found else None


def modified_at(tree: HtmlElement, articles: list[dict[str, Any]]) -> datetime | None:
    """Last-modified timestamp stated by the publisher (meta tags, JSON-LD, microdata)."""
    candidates = [meta_content(tree, *_MODIFIED_META)]
    candidates += [str(obj.get("dateModified") or "") for obj in articles]
    candidates += _microdata_datetimes(tree, "dateModified")
    return first_timestamp(candidates)


def first_timestamp(candidates: list[str | None]) -> datetime | None:
    """The first candidate that parses as a full timestamp (date and time)."""
    for candidate in candidates:
        parsed = parse_timestamp(candidate) if candidate else None
        if parsed is not None:
            return parsed
    return None


def parse_timestamp(value: str) -> datetime | None:
    """Parse an ISO 8601 or RFC 2822 timestamp with a time of day; naive times are taken as UTC.

    Returns None for a bare date (the caller has a better source for those) and for values
    outside 1995..tomorrow, which are placeholders or typos.
    """
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    else:
        if len(value) <= len("2019-11-19"):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not _EARLIEST <= parsed <= datetime.now(UTC) + timedelta(days=1):
        return None
    return parsed


def parse_date(value: str | None) -> datetime | None:
    """Midnight UTC of a ``YYYY-MM-DD`` date (trafilatura's format), or None."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def page_title(tree: HtmlElement) -> str:
    """``og:title``, else ``<title>``, else the first ``<h1>``; "" when the page has none."""
    for candidate in (
        meta_content(tree, "og:title"),
        tree.findtext(".//title"),
        tree.xpath("string(.//h1)"),
    ):
        title = " ".join(str(candidate or "").split())
        if title:
            return title
    return ""


def page_language(tree: HtmlElement) -> str | None:
    """Primary language tag from ``<html lang>``, Content-Language or og:locale, e.g. ``"en"``."""
    candidates = [
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        tree.get("xml:lang"),
        meta_content(tree, "content-language", "og:locale", "dc.language", "language"),
    ]
    for candidate in candidates:
        language = normalize_language(candidate)
        if language is not None:
            return language
    return None


def jsonld_language(articles: list[dict[str, Any]]) -> str | None:
    """The ``inLanguage`` of the page's JSON-LD article (a tag, or a Language object)."""
    for obj in articles:
        value = obj.get("inLanguage")
        if isinstance(value, dict):
            value = value.get("alternateName") or value.get("name")
        if isinstance(value, list):
            value = value[0] if value else None
        language = normalize_language(value if isinstance(value, str) else None)
        if language is not None:
            return language
    return None


def normalize_language(value: str | None) -> str | None:
    """``"en-US"``, ``"en_GB"``, ``"EN"`` -> ``"en"``; None when it is not a language tag."""
    match = _LANG_RE.match((value or "").strip().split(",")[0].strip())
    return match.group(1).lower() if match else None


def canonical_url(tree: HtmlElement, url: str | None) -> str | None:
    """``rel=canonical`` or ``og:url``, resolved against ``<base href>`` and the page URL.

    Returns None when there is none, or when it stays relative because the page URL is unknown.
    A site's front page is no article's canonical URL: templates that put it on every page (a
    common CMS mistake) would make every article one, so it is passed over.
    """
    hrefs: list[str | None] = [
        link.get("href")
        for link in tree.iterfind(".//link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    hrefs.append(meta_content(tree, "og:url"))
    base = url or ""
    base_href = str(tree.xpath("string(.//base/@href)")).strip()
    if base_href:
        base = _joined(base, base_href) or base
    for href in hrefs:
        href = (href or "").strip()
        absolute = _joined(base, href) if href else None
        if absolute is None:
            continue
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https") and parts.netloc and not _is_front_page(parts):
            return absolute
    return None


def _is_front_page(parts: SplitResult) -> bool:
    return parts.path in ("", "/") and not parts.query


def _joined(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``, or None when it is no URL (``http://[::1``)."""
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _microdata_author(tree: HtmlElement) -> str | None:
    """Names in ``itemprop="author"`` elements (or their ``itemprop="name"``), "; "-joined.

    Authors of reader comments (inside a comment container or item) are left out.
    """
    names: list[str] = []
    for element in _AUTHOR_MICRODATA(tree)[:5]:
        named = element.xpath('.//*[@itemprop="name"]')
        source = named[0] if named else element
        name = " ".join(str(source.get("content") or source.text_content()).split())
        if name and len(name) <= 80 and name not in names:
            names.append(name)
    return "; ".join(names) or None


# A visible byline ("By Jane Reporter and Ann Other | Updated 3 hours ago"): the first element
# whose class or id says byline, or a rel="author" link, outside comments, asides and related
# lists. Only when the publisher states no author in meta data, JSON-LD or microdata.
_BYLINE = XPath(
    '(.//*[contains(@class, "byline") or contains(@class, "Byline") or contains(@id, "byline")]'
    ' | .//a[@rel="author"])[not(ancestor-or-self::*[contains(@class, "comment")'
    ' or contains(@id, "comment") or contains(@class, "related")] or ancestor::aside)]'
)
_BYLINE_LEAD = re.compile(r"^\s*(?:by|von|par|por|door|di|av|af)\b[:\s]*", re.IGNORECASE)
# where the names end: a separator, a date or time, "Updated", "Published", a role
_BYLINE_END = re.compile(
    r"\s*(?:[|•·—–]|\s-\s|\d|\b(?:updated|published|posted|last|on|for|in|follow|email|twitter"
    r"|associated press|reuters|afp|staff writer|contributor|correspondent)\b).*$",
    re.IGNORECASE | re.DOTALL,
)
_NAME_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|de|da|di|van|von|der|den|del|la|le|bin|al)$")


def _byline_author(tree: HtmlElement) -> str | None:
    """Names from the page's visible byline, "; "-joined; None unless they look like names
    (two to five capitalised words each, no digits): a byline block that also holds a bio, a
    date or a newsletter line gives nothing rather than a wrong author."""
    for element in _BYLINE(tree)[:3]:
        text = " ".join(" ".join(element.itertext()).split())  # "TUCKER</a>Associated": apart
        if not text or len(text) > 200:
            continue
        text = _BYLINE_END.sub("", _BYLINE_LEAD.sub("", text))
        names = [part.strip(" .:") for part in _NAME_SPLIT.split(text) if part.strip(" .:")]
        if names and all(_looks_like_name(name) for name in names):
            return "; ".join(dict.fromkeys(names))
    return None


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and len(text) <= 60 and all(_NAME_WORD.match(w) for w in words)


# The article's own <time datetime>: inside <article> or <main> (or marked pubdate), not inside
# a comment, an aside, a navigation block or a footer (related articles, reader comments).
_ARTICLE_TIME = XPath(
    "(.//article//time[@datetime] | .//main//time[@datetime] | .//time[@pubdate][@datetime])"
    "[not(ancestor::aside or ancestor::nav or ancestor::footer or ancestor::*["
    'contains(@class, "comment") or contains(@id, "comment") or contains(@class, "related")])]'
    "/@datetime",
    smart_strings=False,
)


def _microdata_datetimes(tree: HtmlElement, prop: str) -> list[str]:
    """``datetime`` attributes of elements carrying the microdata property ``prop``."""
    xpath = f'.//*[@datetime][contains(concat(" ", normalize-space(@itemprop), " "), " {prop} ")]'
    return [str(element.get("datetime")) for element in tree.xpath(xpath)]


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])
        # e.g. WebPage.mainEntity = NewsArticle
        main_entity = data.get("mainEntity")
        if isinstance(main_entity, dict | list):
            yield from _flatten(main_entity)


def _types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("@type")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []
