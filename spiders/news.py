"""The generic news spider: one crawl pass over the configured outlets.

Discovery (feeds, sitemaps, section pages) yields requests for article pages; article
responses leave the spider as :class:`pipeline.items.FetchedPage` items for extraction.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from pipeline.config import OutletConfig, load_config
from pipeline.devcrawl import apply_config
from pipeline.items import FetchedPage
from pipeline.middlewares import KIND, OUTLET, UNREPORTED, OutletSkipped, describe_exception
from pipeline.signals import (
    FetchRecord,
    count_outlet_error,
    extraction_expected,
    fetch_recorded,
)
from pipeline.urls import absolute_url, article_url, canonicalize_url, host_in_domains, host_of
from spiders.discovery import (
    Link,
    NotAFeed,
    NotASitemap,
    TruncatedFeed,
    feed_links,
    parse_sitemap,
    section_links,
    starts_like_html,
)
from storage.listings import ListingState

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from storage.repository import KnownArticle

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
T = TypeVar("T")
Callback = Callable[[Response], Iterator[Any] | AsyncIterator[Any]]


LISTING_KINDS = ("feed", "sitemap", "section")


class NewsSpider(Spider):
    """Crawl the outlets of ``NEWSMON_CONFIG`` (or those named in ``NEWSMON_OUTLETS``)."""

    name = "news"

    outlets: dict[str, OutletConfig]
    known: dict[str, KnownArticle]
    listing_parser: ThreadPoolExecutor

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        apply_config(settings)  # `scrapy crawl news`: newsmon.toml as `newsmon crawl` applies it

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        config = load_config(settings.get("NEWSMON_CONFIG"))
        wanted = settings.getlist("NEWSMON_OUTLETS")
        chosen = [config.outlet(name) for name in wanted] if wanted else list(config.outlets)
        spider.outlets = {outlet.name: outlet for outlet in chosen}
        spider.max_age = timedelta(days=settings.getfloat("NEWSMON_MAX_AGE_DAYS"))
        spider.max_per_outlet = settings.getint("NEWSMON_MAX_ARTICLES_PER_OUTLET")
        spider.known, spider.due, spider.listings = _load_known(
            settings.get("NEWSMON_DATABASE_URL"), spider.outlets, settings.get("NEWSMON_RECHECK")
        )
        spider.read_listings: dict[str, dict[str, ListingState]] = {n: {} for n in spider.outlets}
        spider.capped: set[str] = set()
        spider.recheck = settings.get("NEWSMON_RECHECK")
        spider.rechecked: set[int] = set()
        spider.seen: set[str] = set()
        spider.skips_reported: set[str] = set()
        # configured feeds and those found on an HTML page given as a feed: each read once
        spider.feeds_requested = {url for outlet in chosen for url in outlet.feeds}
        # every sitemap read once a pass: an index listing itself (or two listing each other)
        # would otherwise be read for ever
        spider.sitemaps_requested = {url for outlet in chosen for url in outlet.sitemaps}
        spider.listed_as: dict[str, set[str]] = {}
        spider.queued: dict[str, int] = dict.fromkeys(spider.outlets, 0)
        spider.expects_extraction = False
        spider.tracking_params = tuple(settings.getlist("NEWSMON_TRACKING_PARAMS"))
        spider.main_hosts = {o.name: {host_of(u) for u in o.start_urls} for o in chosen}
        # Feeds and sitemaps are parsed in a thread of their own: feedparser takes about half
        # a millisecond an entry, and a few large feeds held the reactor for a second at the
        # start of a crawl, with no page downloading and the extraction workers idle.
        crawler.signals.connect(spider._robots_sitemaps, signal=signals.robots_parsed)
        spider.listing_parser = ThreadPoolExecutor(1, thread_name_prefix="newsmon-listings")
        crawler.signals.connect(spider.listing_parser.shutdown, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        stored = {known.outlet for known in self.known.values()}
        if any(name not in stored for name in self.outlets):
            self._expect_extraction()  # an outlet's first crawl: every page it finds is new
        for outlet in self.outlets.values():
            for url in outlet.feeds:
                yield self._listing_request(url, outlet, "feed", self.parse_feed)
            for url in outlet.sitemaps:
                yield self._listing_request(url, outlet, "sitemap", self.parse_sitemap)
            for url in outlet.sections:
                yield self._listing_request(url, outlet, "section", self.parse_section)
            for url in outlet.articles:
                for request in self._consider(Link(url=url), outlet, via="config"):
                    yield request
        for rank, known in enumerate(self.due):  # most overdue first
            if known.outlet in self.outlets:
                yield self._recheck(known, self.outlets[known.outlet], priority=-1 - rank)

    # --- discovery --------------------------------------------------------------------------

    def _listing_request(
        self, url: str, outlet: OutletConfig, kind: str, callback: Callback
    ) -> Request:
        """A feed, sitemap or section request, conditional when the last full read left
        validators: a 304 means every link on it was handled in an earlier pass."""
        request = self._request(url, outlet, kind, callback)
        request.meta["newsmon_listing"] = url
        state = self.listings.get(url)
        if state is not None and state.conditional:
            if state.etag:
                request.headers[b"If-None-Match"] = state.etag
            if state.last_modified:
                request.headers[b"If-Modified-Since"] = state.last_modified
            request.meta["handle_httpstatus_list"] = [304]
        return request

    def _listing_unchanged(self, response: Response, outlet: OutletConfig) -> bool:
        """A 304, or the very bytes of the last full read (a server without validators):
        nothing on the listing is new, so it is not parsed again."""
        url = response.meta.get("newsmon_listing", response.url)
        state = self.listings.get(url)
        if state is None:
            return False
        if response.status == 304:
            self.crawler.stats.inc_value("newsmon/listings_not_modified")
        elif state.body_hash and state.body_hash == _body_hash(response):
            self.crawler.stats.inc_value("newsmon/listings_same_body")
        else:
            return False
        self.read_listings[outlet.name][url] = state
        return True

    def _listing_children(self, url: str, outlet: OutletConfig) -> Iterator[Request]:
        """An unchanged sitemap index still leads to its children, which may have changed."""
        for child in self.listings[url].children:
            if (request := self._child_sitemap(child, outlet)) is not None:
                yield request

    def _robots_sitemaps(self, robotparser: Any, request: Request) -> None:
        """Read the sitemaps an outlet's robots.txt names (``Sitemap:`` lines, where most news
        sites announce their news sitemap), for an outlet configured without feed or sitemap
        (or with ``robots_sitemaps = true``); only those on the outlet's domains."""
        outlet = self.outlets.get(request.meta.get(OUTLET, ""))
        if outlet is None or not outlet.reads_robots_sitemaps or self.crawler.engine is None:
            return
        named = getattr(getattr(robotparser, "rp", None), "sitemaps", ())  # Protego's parser
        for url in named:
            url = absolute_url(request.url, url)
            if url is None or not outlet.owns_host(host_of(url)):
                continue
            if (sitemap := self._child_sitemap(url, outlet)) is not None:
                self.crawler.stats.inc_value("newsmon/sitemaps_from_robots")
                self.crawler.engine.crawl(sitemap)

    def _child_sitemap(self, url: str, outlet: OutletConfig) -> Request | None:
        """The request for a sitemap an index lists, unless this pass has asked for it already."""
        if url in self.sitemaps_requested:
            self.crawler.stats.inc_value("newsmon/sitemaps_listed_again")
            return None
        self.sitemaps_requested.add(url)
        return self._listing_request(url, outlet, "sitemap", self.parse_sitemap)

    def _listing_read(
        self, response: Response, outlet: OutletConfig, kind: str, children: Sequence[str] = ()
    ) -> None:
        """Remember a listing read in full, for a conditional request next pass."""
        url = response.meta.get("newsmon_listing", response.url)
        self.read_listings[outlet.name][url] = ListingState(
            url,
            kind,
            _header(response, b"ETag"),
            _header(response, b"Last-Modified"),
            tuple(children),
            _body_hash(response),
        )

    async def parse_feed(self, response: Response) -> AsyncIterator[Any]:
        outlet = self._outlet_of(response)
        if self._listing_unchanged(response, outlet):
            return
        complete = True
        try:
            links = await self._parsed(feed_links, response)
        except TruncatedFeed as exc:
            # use what it has, and do not remember it: next pass reads it whole, not a 304
            self._count_error(outlet.name, f"{response.url}: {exc}; read again in full next pass")
            links, complete = exc.links, False
        except NotAFeed as exc:
            feeds = [u for u in exc.advertised if outlet.owns_host(host_of(u))]
            if not feeds:
                self._count_error(outlet.name, f"{response.url}: {exc}")
                return
            for request in self._advertised_feeds(response, outlet, feeds):
                yield request
            return
        for link in links:
            for request in self._consider(link, outlet, via="feed"):
                yield request
        self._check_some_in_domains(response, outlet, "feed", links)
        if complete:
            self._listing_read(response, outlet, "feed")

    def _check_some_in_domains(
        self, response: Response, outlet: OutletConfig, kind: str, links: Sequence[Link]
    ) -> None:
        """A listing whose every link is off the outlet's domains (a feed on a feed host, a
        typo in ``domains``) would find nothing, silently, on every pass: say why."""
        if not links or any(host_in_domains(host_of(link.url), outlet.domains) for link in links):
            return
        hosts = sorted({host_of(link.url) for link in links})
        shown = ", ".join(hosts[:3]) + (", …" if len(hosts) > 3 else "")
        problem = (
            f"none of its {len(links)} links is on the outlet's domains "
            f"({', '.join(outlet.domains)}); they point to {shown}: add it to `domains`"
        )
        self._count_error(outlet.name, f"{response.url}: {kind} read, but {problem}")

    def _advertised_feeds(
        self, response: Response, outlet: OutletConfig, feeds: list[str]
    ) -> Iterator[Request]:
        """A feed URL that answers with an HTML page (the site, not its feed): read the feeds
        the page names instead, as a feed reader would, and say so in the log."""
        new = [u for u in feeds if u not in self.feeds_requested]
        self.logger.warning(
            "%s: %s is an HTML page, not a feed; reading the feed(s) it names: %s",
            outlet.name,
            response.url,
            ", ".join(feeds),
        )
        for url in new:
            self.feeds_requested.add(url)
            self.crawler.stats.inc_value("newsmon/feeds_autodiscovered")
            yield self._listing_request(url, outlet, "feed", self.parse_feed)

    async def parse_sitemap(self, response: Response) -> AsyncIterator[Any]:
        outlet = self._outlet_of(response)
        if self._listing_unchanged(response, outlet):
            for request in self._listing_children(response.meta["newsmon_listing"], outlet):
                yield request
            return
        try:
            content = await self._parsed(parse_sitemap, response)
        except NotASitemap as exc:
            self._count_error(outlet.name, f"{response.url}: {exc}")
            return
        children = []
        for child in content.sitemaps:
            if self._is_stale(child) or not outlet.owns_host(host_of(child.url)):
                self.crawler.stats.inc_value("newsmon/sitemaps_skipped")
                continue
            children.append(child.url)
            if (request := self._child_sitemap(child.url, outlet)) is not None:
                yield request
        for link in content.links:
            for request in self._consider(link, outlet, via="sitemap"):
                yield request
        self._check_some_in_domains(response, outlet, "sitemap", content.links)
        self._listing_read(response, outlet, "sitemap", children)

    async def _parsed(self, parse: Callable[[bytes, str], T], response: Response) -> T:
        """``parse(body, url)`` in the listing thread, the reactor going on meanwhile."""
        future = self.listing_parser.submit(parse, response.body, response.url)
        return await asyncio.wrap_future(future)

    def parse_section(self, response: Response) -> Iterator[Any]:
        outlet = self._outlet_of(response)
        if self._listing_unchanged(response, outlet):
            return
        if not isinstance(response, TextResponse):
            self._count_error(outlet.name, f"{response.url}: section page is not HTML")
            return
        links = section_links(response.text, response.url, outlet.domains)
        if not links:  # a wrong page, or URLs the heuristic does not know: never silent
            problem = "no link on this section page looks like an article of the outlet"
            self._count_error(outlet.name, f"{response.url}: {problem}")
            return
        for link in links:
            yield from self._consider(link, outlet, via="section")
        self._listing_read(response, outlet, "section")

    def complete_listings(self) -> dict[str, list[ListingState]]:
        """Per outlet whose pass handled every link (no error, no cap reached): the listings
        it read, to be asked for conditionally next time. Other outlets keep what they had
        stored: a listing that changed since then answers in full again."""
        stats = self.crawler.stats
        return {
            name: list(states.values())
            for name, states in self.read_listings.items()
            if name not in self.capped and not stats.get_value(f"newsmon/outlet/{name}/errors")
        }

    def _consider(self, link: Link, outlet: OutletConfig, *, via: str) -> Iterator[Request]:
        """Queue ``link`` if it is a new, fresh article URL of ``outlet``."""
        stats = self.crawler.stats
        if not host_in_domains(host_of(link.url), outlet.domains):
            stats.inc_value("newsmon/links_offsite")
            return
        if self._is_stale(link):
            stats.inc_value("newsmon/links_stale")
            return
        variant = canonicalize_url(link.url, self.tracking_params)
        # AMP and mobile variants: fetch the article they render (falling back to the variant)
        url = article_url(variant, self.main_hosts[outlet.name], self.tracking_params)
        self.listed_as.setdefault(url, set()).add(link.url)
        known = self.known.get(url) or self.known.get(variant) or self.known.get(link.url)
        if known is not None:
            if url not in self.seen:
                stats.inc_value("newsmon/links_known")
            self.seen.add(url)
            if self._updated_upstream(link, known):
                yield self._recheck(known, outlet, priority=5)  # due at once
            return
        if url in self.seen:
            return
        self.seen.add(url)
        if self.max_per_outlet and self.queued[outlet.name] >= self.max_per_outlet:
            stats.inc_value("newsmon/links_over_cap")
            self.capped.add(outlet.name)
            return
        self.queued[outlet.name] += 1
        _count(self, outlet.name, "discovered")
        self._expect_extraction()
        request = self._request(url, outlet, "article", self.parse_article)
        request.meta["newsmon_via"] = via
        request.meta["newsmon_listed"] = link
        request.meta["newsmon_listed_url"] = link.url
        if url != variant:
            request.meta["newsmon_variant"] = variant
            request.meta["handle_httpstatus_list"] = [404, 410]
            request.errback = self._variant_failed
        yield request

    def _expect_extraction(self) -> None:
        """Tell the pipelines, once, that this crawl will extract (they start their workers)."""
        if not self.expects_extraction:
            self.expects_extraction = True
            self.crawler.signals.send_catch_log(signal=extraction_expected)

    def _updated_upstream(self, link: Link, known: KnownArticle) -> bool:
        """A feed or sitemap dates the article after our last look (and it is not queued yet)."""
        return (
            self.recheck != "none"
            and known.id not in self.rechecked
            and _listed_since_check(link, known)
        )

    def _is_stale(self, link: Link) -> bool:
        listed = link.listed_date
        return listed is not None and listed < datetime.now(UTC) - self.max_age

    # --- articles ---------------------------------------------------------------------------

    def _recheck(self, known: KnownArticle, outlet: OutletConfig, *, priority: int) -> Request:
        """Fetch a stored article again, conditionally: a 304 costs no body and no extraction."""
        self.rechecked.add(known.id)
        _count(self, outlet.name, "rechecked")
        request = self._request(known.url, outlet, "article", self.parse_article)
        request.priority = priority
        # each due article is asked for once (``rechecked``), so Scrapy's duplicate filter has
        # nothing to catch; its fingerprint (canonical URL, SHA-1) cost 3 % of a recheck pass,
        # and it would drop the recheck of an article redirecting to a URL fetched already.
        request.dont_filter = True
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified
        request.meta["newsmon_article_id"] = known.id
        request.meta["newsmon_raw_hash"] = known.raw_hash
        request.meta["newsmon_since"] = known.since
        request.meta["newsmon_removed"] = known.removed
        request.meta["handle_httpstatus_list"] = [304, 404, 410]
        request.meta["newsmon_via"] = "recheck"
        return request

    def parse_article(self, response: Response) -> Iterator[Any]:
        outlet = self._outlet_of(response)
        if response.status in (404, 410) and response.meta.get("newsmon_variant"):
            yield self._variant_fallback(response, outlet)
            return
        if response.status in (304, 404, 410):
            yield self._page(response, outlet, content_type=None)
            return
        if (home := _redirected_home(response)) is not None:
            # how outlets retire an article: not the article, whatever the home page says
            reason = f"redirected to the outlet's home page ({home})"
            if response.meta.get("newsmon_article_id") is None:
                self._record_failure(response, outlet, reason)
                return
            page = self._page(response, outlet, content_type=None)
            page.gone = reason
            yield page
            return
        if not host_in_domains(host_of(response.url), outlet.domains):
            # a link of the outlet that redirects to another site: not the outlet's article
            first = (response.meta.get("redirect_urls") or [response.url])[0]
            reason = f"off the outlet's domains (a redirect from {first})"
            self._record_failure(response, outlet, reason)
            return
        content_type = response.headers.get(b"Content-Type") or b""
        if not content_type.lower().startswith(HTML_TYPES):
            if not _looks_like_html(content_type, response.body):
                reason = f"not an HTML page ({content_type.decode('latin-1') or 'no Content-Type'})"
                self._record_failure(response, outlet, reason)
                return
            # a misconfigured server: no type, or a generic one, for what is plainly HTML
            content_type = b"text/html"
        _count(self, outlet.name, "fetched")
        yield self._page(response, outlet, content_type=content_type.decode("latin-1") or None)

    def _record_failure(self, response: Response, outlet: OutletConfig, reason: str) -> None:
        """A page that is not the outlet's article: in the fetch log and the outlet's errors."""
        record = FetchRecord.from_exchange(response.request, response=response, error=reason)
        self.crawler.signals.send_catch_log(signal=fetch_recorded, record=record)
        self._count_error(outlet.name, f"{response.url}: {reason}")

    def _variant_fallback(self, response: Response, outlet: OutletConfig) -> Request:
        """The article URL guessed from an AMP/mobile link does not exist: fetch the link."""
        record = FetchRecord.from_exchange(response.request, response=response, error=None)
        self.crawler.signals.send_catch_log(signal=fetch_recorded, record=record)
        return self._variant_request(response.request, outlet)

    def _variant_failed(self, failure: Failure) -> Iterator[Request]:
        """The guessed article host or URL did not answer at all: fetch the link instead."""
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(IgnoreRequest):  # robots.txt, private address: not a bad guess
            self.failed(failure)
            return
        yield self._variant_request(request, self.outlets[request.meta[OUTLET]])

    def _variant_request(self, guessed: Request, outlet: OutletConfig) -> Request:
        variant = guessed.meta["newsmon_variant"]
        self.listed_as.setdefault(variant, set()).update(self.listed_as.get(guessed.url, ()))
        request = self._request(variant, outlet, "article", self.parse_article)
        for key in ("newsmon_via", "newsmon_listed", "newsmon_listed_url"):
            if key in guessed.meta:
                request.meta[key] = guessed.meta[key]
        return request

    def _page(
        self, response: Response, outlet: OutletConfig, *, content_type: str | None
    ) -> FetchedPage:
        listed: Link | None = response.meta.get("newsmon_listed")
        requested = response.meta.get("newsmon_listed_url") or response.request.url
        return FetchedPage(
            outlet=outlet.name,
            url=response.url,
            requested_url=requested,
            status=response.status,
            body=response.body if response.status == 200 else b"",
            fetched_at=datetime.now(UTC),
            content_type=content_type,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            duration=response.meta.get("download_latency"),
            redirect_urls=list(response.meta.get("redirect_urls", [])),
            listed_urls=sorted(self.listed_as.get(response.request.url, ())),
            discovered_via=response.meta.get("newsmon_via", "config"),
            listed_published_at=listed.published_at if listed else None,
            listed_title=listed.title if listed else None,
            article_id=response.meta.get("newsmon_article_id"),
            known_raw_hash=response.meta.get("newsmon_raw_hash"),
            known_since=response.meta.get("newsmon_since"),
            known_removed=response.meta.get("newsmon_removed", False),
        )

    # --- helpers ----------------------------------------------------------------------------

    def _request(self, url: str, outlet: OutletConfig, kind: str, callback: Callback) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.failed,
            meta={OUTLET: outlet.name, KIND: kind, "download_slot": f"outlet:{outlet.name}"},
            priority=10 if kind != "article" else 0,
            dont_filter=kind != "article",
        )

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        outlet = request.meta.get(OUTLET, "?")
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.crawler.stats.inc_value(f"newsmon/outlet/{outlet}/robots_forbidden")
            if request.meta.get(KIND) in LISTING_KINDS:  # configured by the user: say so
                last = self.crawler.stats.get_value(f"newsmon/outlet/{outlet}/last_error")
                if last and "robots.txt" in last:  # its robots.txt failed (5xx): say that
                    _count(self, outlet, "errors")
                else:
                    self._count_error(outlet, f"{request.url}: forbidden by robots.txt")
            return
        if failure.check(OutletSkipped):
            # the outlet asked to be left alone, or stopped answering: said once, not per URL
            self.crawler.stats.inc_value(f"newsmon/outlet/{outlet}/skipped")
            if outlet not in self.skips_reported:
                self.skips_reported.add(outlet)
                self._count_error(outlet, str(failure.value))
            return
        reason = describe_exception(failure.value)
        response = getattr(failure.value, "response", None)
        if request.meta.get("newsmon_error"):
            reason = request.meta["newsmon_error"]
        elif response is not None:
            reason = f"HTTP {response.status}"
        if request.meta.pop(UNREPORTED, False):  # failed after the fetch log let it through
            record = FetchRecord.from_exchange(request, error=reason)
            self.crawler.signals.send_catch_log(signal=fetch_recorded, record=record)
        self._count_error(outlet, f"{request.url}: {reason}")

    def _count_error(self, outlet: str, message: str) -> None:
        count_outlet_error(self.crawler.stats, outlet, message)
        self.logger.warning("%s: %s", outlet, message)

    def _outlet_of(self, response: Response) -> OutletConfig:
        return self.outlets[response.meta[OUTLET]]


# Types a misconfigured server sends for any file: the body then says whether it is HTML.
_GENERIC_TYPES = (b"", b"application/octet-stream", b"text/plain", b"binary/octet-stream")


def _looks_like_html(content_type: bytes, body: bytes) -> bool:
    """An HTML document served without a type or with a generic one."""
    generic = content_type.split(b";")[0].strip().lower() in _GENERIC_TYPES
    return generic and starts_like_html(body)


def _redirected_home(response: Response) -> str | None:
    """The home page an article URL redirected to (a path of "/" only), or None."""
    redirects = response.meta.get("redirect_urls")
    if not redirects or response.status != 200:
        return None
    final = urlparse_cached(response)
    if final.path not in ("", "/") or final.query:
        return None
    first = urlparse(redirects[0])
    return None if first.path in ("", "/") else response.url


def _count(spider: Spider, outlet: str, key: str, value: int = 1) -> None:
    spider.crawler.stats.inc_value(f"newsmon/outlet/{outlet}/{key}", value)


def _body_hash(response: Response) -> str:
    """SHA-256 of a listing's body, computed once per response."""
    if "newsmon_body_hash" not in response.meta:
        response.meta["newsmon_body_hash"] = hashlib.sha256(response.body).hexdigest()
    return str(response.meta["newsmon_body_hash"])


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _listed_since_check(link: Link, known: KnownArticle) -> bool:
    """The feed or sitemap dates the article after our last look: it changed upstream."""
    listed = link.listed_date
    checked = known.last_checked_at
    return listed is not None and checked is not None and listed > checked


def _load_known(
    database_url: str | None, outlets: dict[str, OutletConfig], recheck: str | None
) -> tuple[dict[str, KnownArticle], list[KnownArticle], dict[str, ListingState]]:
    """Stored articles by URL (discovery skips them), those to recheck in this pass, and the
    validators of the outlets' listings."""
    if not database_url:
        return {}, [], {}
    from storage.db import make_engine, make_session_factory
    from storage.listings import listing_states
    from storage.repository import due_articles, known_articles

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            known = known_articles(session, outlets)
            due: list[KnownArticle] = []
            if recheck in ("due", "all"):
                due = due_articles(
                    session, outlets, datetime.now(UTC), include_all=recheck == "all"
                )
            return known, due, listing_states(session, outlets)
    finally:
        engine.dispose()
