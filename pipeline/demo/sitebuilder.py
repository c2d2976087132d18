"""Build a local outlet (articles, feeds, sitemaps, sections, robots.txt) from saved real pages.

A :class:`~pipeline.demo.server.Site` built here does not know its port: each page is rendered on
its first request, from the address and port that received it, and cached. So one Site can be
served on any port, and absolute URLs (canonical, feed links, sitemap locations) are always right.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from urllib.parse import urlsplit

from pipeline.demo import feeds
from pipeline.demo.rewrite import PageIdentity, localize, meta_content, parse
from pipeline.demo.server import RequestInfo, Route, Site

RSS_PATH = "/feed.xml"
ATOM_PATH = "/atom.xml"
RSS1_PATH = "/rss1.xml"
SITEMAP_INDEX_PATH = "/sitemap.xml"
NEWS_SITEMAP_PATH = "/sitemap-news.xml"
PLAIN_SITEMAP_PATH = "/sitemap-articles.xml"
ROBOTS_PATH = "/robots.txt"

# Pages every outlet has besides its articles: what a crawler must recognise as "not an article".
TAGS = ("politics", "science")
CATEGORY = "world"
AUTHOR = "newsdesk"
VIDEO = "daily-briefing"
NON_ARTICLE_PATHS = (
    *(f"/tag/{tag}" for tag in TAGS),
    f"/category/{CATEGORY}",
    f"/author/{AUTHOR}",
    f"/video/{VIDEO}",
    "/login",
)

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_EXTENSIONS = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_WEAK_SEGMENTS = frozenset({"index", "amp", "story", "article", "news", "1"})
_XML = "application/xml; charset=utf-8"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class SourcePage:
    """One saved page and how the outlet publishes it.

    Args:
        html: the saved page (text).
        original_url: where it was saved from; its slug names the local URL.
        title: the headline used in feeds, sitemaps and section pages.
        published: aware datetime; it names the local path and replaces the page's own dates.
        summary: feed description; the page's meta description when empty.
        slug: overrides the slug taken from ``original_url``.
        encoding: how the page is served (``"windows-1252"`` for legacy outlets).
        charset_in_header / charset_in_meta: where that encoding is declared.
        in_feeds / in_sitemaps / in_sections: where the article is listed.
        feed_query: appended to its link in feeds (``"utm_source=rss&utm_medium=feed"``).
        amp: also serve it at ``/amp/<slug>.html``, with ``rel=canonical`` to the main URL.
        amp_in_sitemap: list the AMP URL in the plain sitemap too (a duplicate to collapse).
    """

    html: str
    original_url: str
    title: str
    published: datetime
    summary: str = ""
    slug: str = ""
    encoding: str = "utf-8"
    charset_in_header: bool = True
    charset_in_meta: bool = True
    in_feeds: bool = True
    in_sitemaps: bool = True
    in_sections: bool = True
    feed_query: str = ""
    amp: bool = False
    amp_in_sitemap: bool = False

    @property
    def path(self) -> str:
        """Local path, ``/<year>/<month>/<slug>.html``."""
        slug = self.slug or slug_from_url(self.original_url)
        return f"/{self.published:%Y/%m}/{slug}.html"

    @property
    def amp_path(self) -> str:
        return "/amp/" + self.path.rsplit("/", 1)[1]

    @property
    def feed_path(self) -> str:
        return f"{self.path}?{self.feed_query}" if self.feed_query else self.path


@dataclass(frozen=True)
class SiteOptions:
    """What an outlet publishes besides its articles (all off: articles and robots.txt only)."""

    rss: bool = False
    atom: bool = False
    rss1: bool = False
    news_sitemap: bool = False
    plain_sitemap: bool = False
    sections: tuple[str, ...] = ()
    robots: bool = True
    disallow: tuple[str, ...] = ()
    crawl_delay: float | None = None
    language: str = "en"
    description: str = "Local news, around the clock."


@dataclass(frozen=True)
class DiscoveryUrls:
    """Where a crawler starts for an outlet: what goes into its ``[[outlets]]`` config entry."""

    feeds: list[str]
    sitemaps: list[str]
    sections: list[str]


def discovery_urls(base_url: str, options: SiteOptions) -> DiscoveryUrls:
    """The outlet's feeds, sitemap index and section pages as absolute URLs."""
    feed_paths = [p for p, on in _feed_kinds(options) if on]
    has_sitemap = options.news_sitemap or options.plain_sitemap
    return DiscoveryUrls(
        feeds=[base_url + p for p in feed_paths],
        sitemaps=[base_url + SITEMAP_INDEX_PATH] if has_sitemap else [],
        sections=[f"{base_url}/section/{name}" for name in options.sections],
    )


def build_site(
    name: str, address: str, pages: Sequence[SourcePage], options: SiteOptions | None = None
) -> Site:
    """A Site serving ``pages`` as articles of outlet ``name`` on ``address``, plus its listings."""
    copies = [replace(page) for page in pages]  # later edits to the caller's pages change nothing
    outlet = _Outlet(name, address, copies, options or SiteOptions())
    return Site(name=name, address=address, routes=outlet.routes())


def slug_from_url(url: str) -> str:
    """A short slug from the original URL's path (``/a/my-story-123.html`` -> ``my-story-123``)."""
    segments = [_EXTENSIONS.sub("", s) for s in urlsplit(url).path.split("/") if s]
    words: list[str] = []
    for segment in reversed(segments):
        words.insert(0, segment)
        if segment.lower() not in _WEAK_SEGMENTS and not segment.isdigit():
            break
    slug = _SLUG_JUNK.sub("-", "-".join(words).lower()).strip("-") or "article"
    return _shorten(slug, 72)


def guess_title(html: str) -> str:
    """The headline a reader sees: ``og:title``, else the first ``<h1>``, else ``<title>``."""
    root = parse(html)
    found = meta_content(root, "og:title", "twitter:title")
    if found:
        return found
    for tag in ("h1", "title"):
        element = root.find(f".//{tag}")
        if element is not None and element.text_content().strip():
            return " ".join(element.text_content().split())
    return ""


def _shorten(slug: str, limit: int) -> str:
    if len(slug) <= limit:
        return slug
    return slug[:limit].rsplit("-", 1)[0]


def _feed_kinds(options: SiteOptions) -> list[tuple[str, bool]]:
    return [(RSS_PATH, options.rss), (ATOM_PATH, options.atom), (RSS1_PATH, options.rss1)]


class _Outlet:
    """Renders one outlet's routes for whatever base URL serves them, once per base URL."""

    def __init__(
        self, name: str, address: str, pages: list[SourcePage], options: SiteOptions
    ) -> None:
        self.name = name
        self.address = address
        self.options = options
        self.pages = sorted(pages, key=lambda p: p.published, reverse=True)
        self.summaries = {id(p): p.summary or _description(p.html) for p in self.pages}
        self._cache: dict[tuple[str, str], Route] = {}
        self._lock = threading.Lock()
        _check_unique_paths(self.pages)

    @property
    def front(self) -> list[SourcePage]:
        """Articles shown on the home, tag and author pages (listed in a feed or a section)."""
        return [p for p in self.pages if p.in_feeds or p.in_sections]

    def routes(self) -> dict[str, Route | Callable[[RequestInfo], Route]]:
        renderers: dict[str, Callable[[str], Route]] = {}
        for page in self.pages:
            renderers[page.path] = self._article_renderer(page, amp=False)
            if page.amp:
                renderers[page.amp_path] = self._article_renderer(page, amp=True)
        renderers.update(self._listing_renderers())
        return {path: self._lazy(path, render) for path, render in renderers.items()}

    def _lazy(self, path: str, render: Callable[[str], Route]) -> Callable[[RequestInfo], Route]:
        def handler(request: RequestInfo) -> Route:
            key = (path, request.base_url)
            with self._lock:
                if key not in self._cache:
                    self._cache[key] = render(request.base_url)
                return self._cache[key]

        return handler

    def _article_renderer(self, page: SourcePage, amp: bool) -> Callable[[str], Route]:
        return lambda base: self._article(page, base, amp)

    def _article(self, page: SourcePage, base: str, amp: bool) -> Route:
        identity = PageIdentity(
            original_url=page.original_url,
            local_url=base + page.path,
            site_name=self.name,
            published=page.published,
            charset=page.encoding,
            charset_in_meta=page.charset_in_meta,
            amp_url=base + page.amp_path if page.amp and not amp else None,
            feed_links=self._feed_links(base),
            nav_html=self._nav_html(),
            footer_html=self._footer_html(page),
        )
        body = localize(page.html, identity).encode(page.encoding, "xmlcharrefreplace")
        charset = f"; charset={page.encoding}" if page.charset_in_header else ""
        return _route(body, "text/html" + charset, page.published)

    def _listing_renderers(self) -> dict[str, Callable[[str], Route]]:
        o = self.options
        renderers: dict[str, Callable[[str], Route]] = {
            "/": lambda base: self._html("Latest news", self._headline_list(self.front)),
            f"/category/{CATEGORY}": lambda base: self._html(
                "World", self._headline_list(self.front)
            ),
            f"/author/{AUTHOR}": lambda base: self._html(
                "Newsdesk", "<p>Staff reports.</p>" + self._headline_list(self.front)
            ),
            f"/video/{VIDEO}": lambda base: self._html("Daily briefing (video)", _VIDEO_HTML),
            "/login": lambda base: self._html("Sign in", _LOGIN_HTML),
        }
        for index, tag in enumerate(TAGS):
            tagged = self.front[index :: len(TAGS)]
            renderers[f"/tag/{tag}"] = self._tag_renderer(tag, tagged)
        for section in o.sections:
            renderers[f"/section/{section}"] = self._section_renderer(section)
        if o.robots:
            renderers[ROBOTS_PATH] = self._robots
        renderers.update(self._feed_renderers())
        renderers.update(self._sitemap_renderers())
        return renderers

    def _tag_renderer(self, tag: str, pages: list[SourcePage]) -> Callable[[str], Route]:
        return lambda base: self._html(f"Tag: {tag}", self._headline_list(pages))

    def _section_renderer(self, section: str) -> Callable[[str], Route]:
        listed = [p for p in self.pages if p.in_sections]
        return lambda base: self._html(section.title(), self._headline_list(listed))

    def _feed_renderers(self) -> dict[str, Callable[[str], Route]]:
        writers = {RSS_PATH: feeds.rss2, ATOM_PATH: feeds.atom, RSS1_PATH: feeds.rss1}
        listed = [p for p in self.pages if p.in_feeds]

        def renderer(path: str) -> Callable[[str], Route]:
            def render(base: str) -> Route:
                text = writers[path](self._channel(base, path), self._entries(base, listed))
                return _route(text.encode(), _feed_type(path), _newest(listed))

            return render

        return {path: renderer(path) for path, on in _feed_kinds(self.options) if on}

    def _sitemap_renderers(self) -> dict[str, Callable[[str], Route]]:
        listed = [p for p in self.pages if p.in_sitemaps]
        parts: dict[str, Callable[[str], str]] = {}
        if self.options.news_sitemap:
            parts[NEWS_SITEMAP_PATH] = lambda base: feeds.news_sitemap(
                self.name, self.options.language, self._entries(base, listed, feed=False)
            )
        if self.options.plain_sitemap:
            parts[PLAIN_SITEMAP_PATH] = lambda base: feeds.url_sitemap(
                self._sitemap_locations(base, listed)
            )
        if not parts:
            return {}
        newest = _newest(listed) or _EPOCH
        parts[SITEMAP_INDEX_PATH] = lambda base: feeds.sitemap_index(
            (base + path, newest) for path in parts if path != SITEMAP_INDEX_PATH
        )
        return {path: _xml_renderer(make, newest) for path, make in parts.items()}

    def _sitemap_locations(self, base: str, pages: list[SourcePage]) -> list[tuple[str, datetime]]:
        locations = [(base + p.path, p.published) for p in pages]
        locations += [(base + p.amp_path, p.published) for p in pages if p.amp and p.amp_in_sitemap]
        return locations

    def _robots(self, base: str) -> Route:
        has_sitemap = self.options.news_sitemap or self.options.plain_sitemap
        text = feeds.robots_txt(
            self.options.disallow,
            self.options.crawl_delay,
            [base + SITEMAP_INDEX_PATH] if has_sitemap else [],
        )
        return Route(text.encode(), content_type="text/plain; charset=utf-8")

    def _channel(self, base: str, self_path: str) -> feeds.Channel:
        return feeds.Channel(
            title=self.name,
            home_url=base,
            self_url=base + self_path,
            description=self.options.description,
            language=self.options.language,
        )

    def _entries(
        self, base: str, pages: list[SourcePage], feed: bool = True
    ) -> list[feeds.FeedEntry]:
        return [
            feeds.FeedEntry(
                title=p.title,
                url=base + (p.feed_path if feed else p.path),
                published=p.published,
                summary=self.summaries[id(p)],
                guid=f"{_slugify(self.name)}:{p.path}",
            )
            for p in pages
        ]

    def _feed_links(self, base: str) -> list[tuple[str, str, str]]:
        return [
            (_feed_type(path).split(";")[0], f"{self.name} ({path.strip('/')})", base + path)
            for path, on in _feed_kinds(self.options)
            if on
        ]

    def _nav_html(self) -> str:
        links = [("/", self.name)]
        links += [(f"/section/{s}", s.title()) for s in self.options.sections]
        links += [(f"/category/{CATEGORY}", CATEGORY.title())]
        links += [(f"/tag/{t}", t.title()) for t in TAGS]
        links += [(f"/video/{VIDEO}", "Video"), ("/login", "Sign in")]
        items = " | ".join(f'<a href="{href}">{escape(label)}</a>' for href, label in links)
        return f'<nav class="site-nav" aria-label="{escape(self.name)}">{items}</nav>'

    def _footer_html(self, page: SourcePage) -> str:
        others = [p for p in self.front if p is not page][:3]
        related = "".join(f'<li><a href="{p.path}">{escape(p.title)}</a></li>' for p in others)
        tags = ", ".join(f'<a href="/tag/{t}" rel="tag">{t}</a>' for t in TAGS)
        return (
            f'<aside class="related"><h2>More from {escape(self.name)}</h2><ul>{related}</ul>'
            f'<p>Tags: {tags}. Filed by <a href="/author/{AUTHOR}" rel="author">Newsdesk</a>.</p>'
            "</aside>"
        )

    def _headline_list(self, pages: Sequence[SourcePage]) -> str:
        items = "".join(
            f'<li><a href="{p.path}">{escape(p.title)}</a> '
            f'<time datetime="{p.published.isoformat()}">{p.published:%d %b %Y %H:%M}</time></li>'
            for p in pages
        )
        return f'<ul class="headlines">{items}</ul>'

    def _html(self, heading: str, content: str) -> Route:
        text = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(heading)} - {escape(self.name)}</title></head><body>"
            f"{self._nav_html()}<main><h1>{escape(heading)}</h1>{content}</main></body></html>\n"
        )
        return _route(text.encode(), "text/html; charset=utf-8", _newest(self.pages))


_VIDEO_HTML = (
    '<video controls width="640" poster="/media/briefing.jpg">'
    '<source src="/media/briefing.mp4" type="video/mp4"></video>'
    "<p>Watch today's briefing.</p>"
)
_LOGIN_HTML = (
    '<form method="post" action="/login"><label>E-mail <input type="email" name="email"></label>'
    '<label>Password <input type="password" name="password"></label>'
    '<button type="submit">Sign in</button></form>'
)


def _route(body: bytes, content_type: str, modified: datetime | None) -> Route:
    headers = {"ETag": '"' + hashlib.sha1(body).hexdigest()[:20] + '"'}
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    return Route(body=body, content_type=content_type, headers=headers)


def _xml_renderer(make: Callable[[str], str], modified: datetime) -> Callable[[str], Route]:
    return lambda base: _route(make(base).encode(), _XML, modified)


def _feed_type(path: str) -> str:
    kinds = {RSS_PATH: "application/rss+xml", ATOM_PATH: "application/atom+xml"}
    return kinds.get(path, "application/rdf+xml") + "; charset=utf-8"


def _newest(pages: Sequence[SourcePage]) -> datetime | None:
    return max((p.published for p in pages), default=None)


def _description(html: str) -> str:
    return meta_content(parse(html), "description", "og:description") or ""


def _slugify(text: str) -> str:
    return _SLUG_JUNK.sub("-", text.lower()).strip("-")


def _check_unique_paths(pages: Sequence[SourcePage]) -> None:
    seen: dict[str, str] = {}
    for page in pages:
        if page.path in seen:
            raise ValueError(
                f"{page.original_url} and {seen[page.path]} both map to {page.path}: set a slug"
            )
        seen[page.path] = page.original_url
