"""Finding article links in feeds, sitemaps and section pages (pure functions, no I/O).

feedparser reads every RSS dialect and Atom; sitemaps are read with lxml because Scrapy's
``Sitemap`` flattens the Google News ``<news:news>`` block whose publication date we need.
"""

from __future__ import annotations

import calendar
import gzip
import io
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.sax import SAXParseException

import feedparser
from lxml import etree, html
from w3lib.html import get_base_url

from pipeline.urls import absolute_url, host_in_domains, host_of

MAX_SITEMAP_BYTES = 50 * 1024 * 1024

# Path segments that mark listing, profile, media or account pages rather than articles.
NON_ARTICLE_SEGMENTS = frozenset(
    """tag tags topic topics author authors byline contributor contributors category categories
    section sections video videos watch live-tv podcast podcasts audio gallery galleries photos
    login signin sign-in logout register signup sign-up subscribe subscription subscriptions
    account accounts profile newsletter newsletters search about about-us contact contact-us
    privacy privacy-policy terms terms-of-service cookies cookie-policy advertise careers jobs
    help faq feed feeds rss atom sitemap archive archives page shop store events weather
    horoscopes crosswords games""".split()
)
NON_ARTICLE_EXTENSIONS = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".pdf", ".zip", ".mp3", ".mp4", ".mov",
    ".css", ".js", ".json", ".xml", ".rss", ".atom", ".ics", ".txt",
)  # fmt: skip
_DATE_IN_PATH = re.compile(r"/(19|20)\d{2}/(0?[1-9]|1[0-2])(/|$)|/(19|20)\d{6}|\d{4}-\d{2}-\d{2}")
_LONG_NUMBER = re.compile(r"\d{5,}")
# An opaque article id as the last segment ("/news/articles/c0jq1v2kx3lo"): letters and at least
# two digits, no separators.
_OPAQUE_ID = re.compile(r"^(?=[a-z0-9]*\d[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{8,}$")
_YEAR_SEGMENT = re.compile(r"/(?:19|20)\d{2}/")
_YEAR = re.compile(r"(?:19|20)\d{2}")


@dataclass(frozen=True, slots=True)
class Link:
    """A candidate article URL with whatever the listing said about it."""

    url: str
    title: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None

    @property
    def listed_date(self) -> datetime | None:
        return self.modified_at or self.published_at


@dataclass(frozen=True, slots=True)
class SitemapContent:
    """Either child sitemaps (an index) or article links (a urlset)."""

    sitemaps: list[Link]
    links: list[Link]


class NotAFeed(ValueError):
    """The body is not an RSS/Atom feed.

    ``advertised``: when it is an HTML page (a site's front page given as its feed), the feeds
    that page links to with ``<link rel="alternate" type="application/rss+xml">``.
    """

    def __init__(self, message: str, advertised: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.advertised = list(advertised)


class TruncatedFeed(ValueError):
    """The feed's XML stops before its end (a cut-off download, a server error mid-way): the
    entries before the cut are in ``links``; the rest are unknown until it is read whole."""

    def __init__(self, message: str, links: list[Link]) -> None:
        super().__init__(message)
        self.links = links


class NotASitemap(ValueError):
    """The body is not a sitemap or sitemap index."""


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Article links of an RSS 0.9x/1.0/2.0 or Atom feed, in feed order (see
    :func:`feed_links` for JSON Feeds and gzip files)."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise NotAFeed(f"not an RSS/Atom feed ({problem})" if problem else "not an RSS/Atom feed")
    links: list[Link] = []
    truncated = _cut_off(body, parsed)
    for entry in parsed.entries:
        url = absolute_url(base_url, _entry_link(entry))
        if url:
            # dict.get: FeedParserDict would silently map a missing date onto the other one
            published = _struct_to_datetime(dict.get(entry, "published_parsed"))
            updated = _struct_to_datetime(dict.get(entry, "updated_parsed"))
            links.append(
                Link(
                    url=url,
                    title=(entry.get("title") or "").strip() or None,
                    published_at=published or updated,
                    modified_at=updated if published else None,
                )
            )
    if truncated:
        raise TruncatedFeed(f"feed cut off after {len(links)} entries ({truncated})", links)
    return links


def parse_json_feed(body: bytes, base_url: str) -> list[Link]:
    """Article links of a JSON Feed (jsonfeed.org, versions 1 and 1.1), in feed order.

    feedparser 6.0 reads only XML feeds, and the format is a plain JSON object: ``items`` with
    ``url`` (or ``external_url``), ``title``, ``date_published`` and ``date_modified``.
    """
    try:
        feed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAFeed(f"not an RSS/Atom or JSON feed (invalid JSON: {exc})") from None
    version = feed.get("version") if isinstance(feed, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise NotAFeed("not an RSS/Atom or JSON feed (JSON, but not a JSON Feed)")
    links: list[Link] = []
    for item in feed.get("items") or []:
        if not isinstance(item, dict):
            continue
        href = item.get("url") or item.get("external_url")
        url = absolute_url(base_url, href) if isinstance(href, str) else None
        if url:
            title = item.get("title")
            published = _iso_datetime(item.get("date_published"))
            modified = _iso_datetime(item.get("date_modified"))
            links.append(
                Link(
                    url=url,
                    title=title.strip() or None if isinstance(title, str) else None,
                    published_at=published or modified,
                    modified_at=modified if published else None,
                )
            )
    return links


def _iso_datetime(value: object) -> datetime | None:
    """An RFC 3339 date of a JSON Feed, in UTC (a date without a zone is taken as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


_FEED_END = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)>\s*$", re.I)


def _cut_off(body: bytes, parsed: feedparser.FeedParserDict) -> str:
    """Why the feed looks cut off (its XML broken and its root element never closed), or ""."""
    problem = parsed.get("bozo_exception")
    if not parsed.get("bozo") or not isinstance(problem, SAXParseException):
        return ""
    if _FEED_END.search(body[-512:].rstrip(b"\x00")):
        return ""
    return f"malformed XML: {problem.getMessage()}"


def feed_links(body: bytes, base_url: str) -> list[Link]:
    """Article links of a feed; a sitemap given as a feed is read as one.

    Raises:
        NotAFeed: neither; for an HTML page, with the feeds it advertises.
    """
    if body[:2] == b"\x1f\x8b":  # a feed.xml.gz served as a file, not Content-Encoding
        try:
            body = _gunzip(body)
        except (OSError, EOFError, NotASitemap) as exc:
            raise NotAFeed(f"a gzip file that cannot be read as a feed ({exc})") from None
    if body.lstrip()[:1] == b"{":
        return parse_json_feed(body, base_url)
    try:
        return parse_feed(body, base_url)
    except NotAFeed as exc:
        try:
            return parse_sitemap(body, base_url).links
        except NotASitemap:
            pass
        if not starts_like_html(body):
            raise exc from None
        advertised = advertised_feeds(body, base_url)
        problem = "an HTML page, not a feed" + ("" if advertised else ", and it names no feed")
        raise NotAFeed(problem, advertised) from None


_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head)\b", re.I | re.S
)


def starts_like_html(body: bytes) -> bool:
    """Whether ``body`` begins as an HTML document (a BOM, blanks and comments allowed)."""
    return bool(_HTML_START.match(body[:2048]))


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+xml")


def advertised_feeds(body: bytes | str, page_url: str) -> list[str]:
    """The RSS/Atom feeds an HTML page names in ``<link rel="alternate" type="...">`` (feed
    autodiscovery, as browsers and feed readers do it), absolute, in page order."""
    try:
        document = html.fromstring(body)
    except (etree.ParserError, ValueError):
        return []
    base = get_base_url(
        body if isinstance(body, str) else body.decode("utf-8", "replace"), page_url
    )
    feeds: list[str] = []
    for link in document.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in _FEED_TYPES:
            url = absolute_url(base, link.get("href"))
            if url and url not in feeds:
                feeds.append(url)
    return feeds


def parse_sitemap(body: bytes, base_url: str) -> SitemapContent:
    """Read a sitemap index, a plain sitemap or a Google News sitemap (gzip accepted)."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(body.strip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise NotASitemap(f"not a sitemap: {exc}") from None
    if root is None:
        raise NotASitemap("not a sitemap: empty document")
    kind = etree.QName(root).localname
    if kind not in ("sitemapindex", "urlset"):
        raise NotASitemap(f"not a sitemap: root element <{kind}>")
    entries = [_sitemap_entry(element, base_url) for element in root]
    found = [entry for entry in entries if entry is not None]
    if kind == "sitemapindex":
        return SitemapContent(sitemaps=found, links=[])
    return SitemapContent(sitemaps=[], links=found)


def section_links(body: str | bytes, page_url: str, domains: Iterable[str]) -> list[Link]:
    """Links on a section page that look like articles of the outlet, in page order, unique."""
    try:
        tree = html.fromstring(body)
    except (etree.ParserError, ValueError):
        return []
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    base = get_base_url(text[:4096], page_url)
    domains = tuple(domains)
    seen: set[str] = {page_url.split("#")[0]}
    links: list[Link] = []
    for anchor in tree.iter("a"):
        url = absolute_url(base, anchor.get("href"))
        if not url:
            continue
        url = url.split("#")[0]
        if url in seen or not host_in_domains(host_of(url), domains):
            continue
        seen.add(url)
        if looks_like_article_url(url):
            title = " ".join(anchor.text_content().split()) or None
            links.append(Link(url=url, title=title))
    return links


def looks_like_article_url(url: str) -> bool:
    """Heuristic used for section pages: reject listing, profile, media and account pages."""
    path = urlsplit(url).path.lower()
    if path.endswith(NON_ARTICLE_EXTENSIONS):
        return False
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    if any(segment.rsplit(".", 1)[0] in NON_ARTICLE_SEGMENTS for segment in segments):
        return False
    last = segments[-1].rsplit(".", 1)[0]
    if last.isdigit() and len(segments) >= 2 and segments[-2] == "page":
        return False
    is_page = path.endswith((".html", ".htm", ".shtml"))
    has_slug = (
        last.count("-") >= 2 or last.count("_") >= 2 or (is_page and ("-" in last or "_" in last))
    )
    has_id = bool(_LONG_NUMBER.search(path) or _OPAQUE_ID.match(last))
    has_date = bool(_DATE_IN_PATH.search(path) or _YEAR_SEGMENT.search(path))
    return has_slug or has_id or (has_date and len(last) > 3 and not _YEAR.fullmatch(last))


def _entry_link(entry: feedparser.FeedParserDict) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    if link := entry.get("link"):
        return str(link)
    # An RSS <guid> or Atom <id> is an address only when it is an absolute one: a guid marked
    # isPermaLink="false" ("abc-123") resolved against the feed would be a made-up URL.
    ident = str(entry.get("id") or "")
    return ident if urlsplit(ident).scheme in ("http", "https") else None


def _sitemap_entry(element: etree._Element, base_url: str) -> Link | None:
    """A ``<url>`` or ``<sitemap>`` entry: its own ``<loc>`` and ``<lastmod>``, and the title and
    date of its ``<news:news>`` block. Image and video extensions have a ``<loc>`` and a
    ``<title>`` of their own (a picture's address, a caption), which must not stand in for the
    article's, wherever they come in the entry."""
    if not isinstance(element.tag, str):
        return None
    own = _texts(child for child in element)
    news = next((child for child in element if _localname(child) == "news"), None)
    listed = _texts(news.iter()) if news is not None else {}
    url = absolute_url(base_url, own.get("loc"))
    if not url:
        return None
    return Link(
        url=url,
        title=listed.get("title"),
        published_at=parse_w3c_date(listed.get("publication_date")),
        modified_at=parse_w3c_date(own.get("lastmod")),
    )


def _localname(element: etree._Element) -> str | None:
    return etree.QName(element).localname if isinstance(element.tag, str) else None


def _texts(elements: Iterable[etree._Element]) -> dict[str, str]:
    """The first non-blank text of each element name."""
    values: dict[str, str] = {}
    for element in elements:
        name = _localname(element)
        if name and name not in values and element.text and element.text.strip():
            values[name] = element.text.strip()
    return values


# The W3C datetime's reduced forms, which sitemaps allow: a year, or a year and a month.
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


def parse_w3c_date(text: str | None) -> datetime | None:
    """W3C datetime as used by sitemaps (``2023``, ``2023-11``, ``2023-11-13``,
    ``2023-11-13T10:00:00+01:00``); ``None`` for anything else."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if reduced := _YEAR_MONTH.fullmatch(value):
        year, month = reduced.groups()
        try:
            return datetime(int(year), int(month or 1), 1, tzinfo=UTC)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError):
        return None


def _gunzip(body: bytes) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
        data = stream.read(MAX_SITEMAP_BYTES + 1)
    if len(data) > MAX_SITEMAP_BYTES:
        raise NotASitemap("sitemap larger than 50 MB after decompression")
    return data
