"""Downloader middlewares: politeness and bookkeeping around every HTTP request.

- :class:`PrivateAddressMiddleware` refuses loopback/private hosts unless the config allows them.
- :class:`OrderedRobotsTxtMiddleware` fixes Scrapy's robots.txt race and honours ``Crawl-delay``.
- :class:`BackoffRetryMiddleware` retries with exponential backoff and ``Retry-After``.
- :class:`FetchLogMiddleware` reports every HTTP exchange so it can be stored as a fetch row.
- :class:`RedirectedValidatorsMiddleware` keeps a recheck's validators off its redirects.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import deque
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy import signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from pipeline.signals import FetchRecord, count_outlet_error, fetch_recorded

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

OUTLET = "newsmon_outlet"
KIND = "newsmon_kind"


class PrivateAddressBlocked(IgnoreRequest):
    """The host resolves to a loopback, private or otherwise non-public address."""


class OutletSkipped(IgnoreRequest):
    """The outlet asked us to come back later than this pass can wait, or stopped answering."""


class PrivateAddressMiddleware:
    """Refuse requests to non-public addresses: newsmon must not be turned against an intranet."""

    def __init__(self, crawler: Crawler) -> None:
        if crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlparse_cached(request).hostname or ""
        if host not in self._verdicts:
            self._verdicts[host] = await _private_address_of(host)
        address = self._verdicts[host]
        if address is not None:
            raise PrivateAddressBlocked(
                f"{host} is a private address ({address}); "
                "set crawl.allow_private_addresses = true to crawl it"
            )


async def _private_address_of(host: str) -> str | None:
    """The non-public address ``host`` is or resolves to, or None when it is public."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return "loopback"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        from twisted.internet import reactor  # not at import time: Scrapy installs the reactor

        try:
            resolved = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
        except Exception:
            return None  # the download itself will fail and be recorded with the DNS error
        address = ipaddress.ip_address(resolved)
    return None if address.is_global else str(address)


_DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class OrderedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Every request waits for its host's robots.txt, and ``Crawl-delay`` slows the outlet.

    Scrapy 2.14+ lets concurrent waiters share one Deferred: only the first gets the parser,
    the others get None, i.e. "allowed" (see PITFALLS.md). Here each waiter gets its own.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        crawler.signals.connect(self._apply_crawl_delay, signal=signals.robots_parsed)
        self._outlets: dict[str, str | None] = {}  # netloc: the outlet that first asked

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        self._outlets.setdefault(netloc, request.meta.get(OUTLET))
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[RobotParser | None] = Deferred()

            def _relay(result: Any) -> Any:
                waiter.callback(result)
                return result

            pending.addBoth(_relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        """RFC 9309: a 5xx robots.txt means "disallow everything" for now; a 4xx allows all."""
        if 500 <= response.status < 600:
            count_outlet_error(
                self.crawler.stats,
                request.meta.get(OUTLET),
                f"{response.url}: HTTP {response.status}; the host is treated as disallowed "
                "for this pass (RFC 9309)",
            )
            response = response.replace(body=_DISALLOW_ALL)
        elif 400 <= response.status < 500:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        """RFC 9309: a robots.txt unreachable for a network error (timeout, refused or reset
        connection) means "disallow everything", as a 5xx does; Scrapy would allow all."""
        pending = self._parsers.get(netloc)
        if isinstance(exc, IgnoreRequest) or not isinstance(pending, Deferred):
            super()._robots_error(exc, netloc)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        parser = self._parserimpl.from_crawler(self.crawler, _DISALLOW_ALL)
        self._parsers[netloc] = parser
        count_outlet_error(
            self.crawler.stats,
            self._outlets.get(netloc),
            f"robots.txt of {netloc}: {describe_exception(exc)}; the host is treated as disallowed "
            "for this pass (RFC 9309)",
        )
        pending.callback(parser)

    def _apply_crawl_delay(self, robotparser: RobotParser, request: Request) -> None:
        agent = self._robotstxt_useragent or self._default_useragent
        delay = getattr(robotparser, "crawl_delay", lambda _agent: None)(agent)
        if not delay:
            return
        engine = self.crawler.engine
        if engine is None:
            return
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot_settings = downloader.per_slot_settings.setdefault(key, {})
        slot_settings["delay"] = max(float(delay), float(slot_settings.get("delay", 0.0)))
        if key in downloader.slots:
            slot = downloader.slots[key]
            slot.delay = max(slot.delay, slot_settings["delay"])
        logger.info("robots.txt Crawl-delay %.1fs applied to %s", float(delay), key)


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry transient failures after an exponential backoff or the server's ``Retry-After``.

    A ``Retry-After`` longer than ``NEWSMON_RETRY_AFTER_CAP`` skips the whole outlet for this pass
    (its next poll should be later anyway), instead of stalling the crawl. So does an outlet that
    stopped answering: after ``UNRESPONSIVE_AFTER`` requests in a row given up on network errors
    (timeouts, refused or reset connections; each retried already), the rest of its requests are
    left for the next pass. Without that, an outlet that hangs held a crawl (and every outlet in
    it) for ``retries + 1`` timeouts per page, up to the daemon's crawl time limit.
    """

    UNRESPONSIVE_AFTER = 3

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.backoff = crawler.settings.getfloat("NEWSMON_RETRY_BACKOFF")
        self.retry_after_cap = crawler.settings.getfloat("NEWSMON_RETRY_AFTER_CAP")
        self.skipped: dict[str, str] = {}
        self.failed_in_a_row: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        outlet = request.meta.get(OUTLET)
        if outlet in self.skipped:
            raise OutletSkipped(self.skipped[outlet])

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        self.failed_in_a_row.pop(request.meta.get(OUTLET) or "", None)  # it answers
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.retry_after_cap:
            self._skip_outlet(request, wait)
            return response
        retry = self._retry(request, status_message(response.status))
        if retry is None:
            return response
        await self._sleep(wait if wait is not None else self._backoff(retry))
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        if isinstance(exception, IgnoreRequest) or request.meta.get("dont_retry"):
            return None
        if not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._sleep(self._backoff(retry))
        else:
            self._count_given_up(request, exception)
        return retry

    def _count_given_up(self, request: Request, exception: Exception) -> None:
        outlet = request.meta.get(OUTLET)
        if not outlet or outlet in self.skipped:
            return
        count = self.failed_in_a_row.get(outlet, 0) + 1
        self.failed_in_a_row[outlet] = count
        if count >= self.UNRESPONSIVE_AFTER:
            reason = (
                f"not answering ({count} requests in a row failed, the last: "
                f"{describe_exception(exception)}): outlet skipped for this pass"
            )
            self._skip(outlet, reason)

    def _skip(self, outlet: str, reason: str) -> None:
        """No more requests to ``outlet`` in this pass, those queued already included."""
        self.skipped[outlet] = reason
        self._drop_queued(outlet, reason)
        logger.warning("%s: %s", outlet, reason)

    def _drop_queued(self, outlet: str, reason: str) -> None:
        """Fail the outlet's requests already waiting in a download slot: they passed
        ``process_request`` before the outlet was skipped, and would still go out."""
        engine = self.crawler.engine
        if engine is None:
            return
        for slot in list(engine.downloader.slots.values()):
            kept: deque[tuple[Request, Deferred[Response]]] = deque()
            dropped = []
            while slot.queue:
                queued = slot.queue.popleft()
                (dropped if queued[0].meta.get(OUTLET) == outlet else kept).append(queued)
            slot.queue.extend(kept)
            for _request, waiting in dropped:
                waiting.errback(Failure(OutletSkipped(reason)))

    def _backoff(self, retry: Request) -> float:
        attempts = int(retry.meta.get("retry_times", 1))
        return float(self.backoff * (2 ** (attempts - 1)))

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _skip_outlet(self, request: Request, wait: float) -> None:
        outlet = request.meta.get(OUTLET) or urlparse_cached(request).hostname or "?"
        reason = (
            f"Retry-After {wait:.0f}s exceeds the {self.retry_after_cap:.0f}s cap: "
            "outlet skipped for this pass"
        )
        request.meta["newsmon_error"] = reason
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value(f"newsmon/outlet/{outlet}/retry_after", time.time() + wait)
        self._skip(outlet, reason)


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PrecheckedMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, without decoding every page to look for one.

    Scrapy decodes the whole body (``response.text``) and then reads its first 4096
    characters. A page whose first bytes (4 per character, for any ASCII-compatible
    encoding) never say "refresh" has no refresh tag there: it is passed on undecoded.
    """

    _HEAD_BYTES = 4 * 4096
    _WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32: not ASCII-compatible, check fully

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        head = response.body[: self._HEAD_BYTES]
        if b"refresh" not in head.lower() and not head.startswith(self._WIDE_BOMS):
            return response
        return super().process_response(request, response)


# Set on an article request whose response the fetch log left to the pipelines: a failure
# after that (a body that cannot be decompressed) must then be reported by the spider.
UNREPORTED = "newsmon_unreported"


class FetchLogMiddleware:
    """Report every HTTP exchange (each retry and redirect hop too) as a :class:`FetchRecord`.

    Article responses that reach the spider (2xx, and a recheck's 304/404/410) are reported
    later by the item pipelines, which know what became of them and which article they belong to.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchLogMiddleware:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        handled = 200 <= response.status < 300 or response.status in request.meta.get(
            "handle_httpstatus_list", ()
        )
        if not (request.meta.get(KIND) == "article" and handled):
            self._report(request, response=response, error=_status_error(request, response))
        else:  # the pipelines report it; unless a middleware nearer the engine fails it first
            request.meta[UNREPORTED] = True
        return response

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        if not isinstance(exception, IgnoreRequest):
            self._report(request, error=describe_exception(exception))

    def _report(
        self, request: Request, *, response: Response | None = None, error: str | None
    ) -> None:
        record = FetchRecord.from_exchange(request, response=response, error=error)
        self.crawler.signals.send_catch_log(signal=fetch_recorded, record=record)


class RedirectLoopMiddleware:
    """A redirect back to a URL of its own chain is an error naming the loop.

    Scrapy's duplicate filter would drop the repeated request without a word (article requests
    are filtered), and the article would vanish from the crawl with no reason recorded. Sits
    just before Scrapy's redirect middleware, which then never sees the loop's last hop.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = safe_url_string(urljoin(request.url, location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if target in chain:
            request.meta["newsmon_error"] = "redirect loop: " + " -> ".join([*chain, target])
            request.meta[UNREPORTED] = True  # the spider reports the loop; the hop is logged
            raise IgnoreRequest(request.meta["newsmon_error"])
        return response


class RedirectedValidatorsMiddleware:
    """A redirected request sends no ``If-None-Match``/``If-Modified-Since``.

    A recheck's validators belong to the article's URL; Scrapy copies every header onto the
    redirected request, so an article retired with a redirect to the home page met a home page
    "not modified since" the article's date, and was counted unchanged (304) for ever.
    """

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("redirect_urls"):
            request.headers.pop(b"If-None-Match", None)
            request.headers.pop(b"If-Modified-Since", None)


class CallbackErrorMiddleware:
    """A spider middleware: a feed, sitemap, section or article page that the spider's code
    cannot read (a page nobody foresaw, or a bug) becomes that outlet's recorded error, with
    the URL and the reason, in the fetch log and the crawl summary; the rest of the crawl goes
    on. Without it Scrapy only logs a traceback, and the outlet's pass looks complete."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CallbackErrorMiddleware:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: Exception, spider: Spider | None = None
    ) -> list[Any] | None:
        if isinstance(exception, HttpError | CloseSpider):
            return None  # Scrapy's own handling: a non-2xx status is in the fetch log already
        reason = f"could not be read: {type(exception).__name__}: {exception}"
        request = response.request
        outlet = request.meta.get(OUTLET) if request is not None else None
        logger.error("%s: %s %s", outlet, response.url, reason, exc_info=exception)
        if request is not None:
            record = FetchRecord.from_exchange(request, response=response, error=reason)
            self.crawler.signals.send_catch_log(signal=fetch_recorded, record=record)
        count_outlet_error(self.crawler.stats, outlet, f"{response.url}: {reason}")
        return []


def _status_error(request: Request, response: Response) -> str | None:
    """The fetch log's error for a status: none below 400, and none for a robots.txt that is
    not there (a 4xx robots.txt allows everything, RFC 9309 section 2.3.1.3)."""
    if response.status < 400:
        return None
    if response.status < 500 and urlparse_cached(request).path == "/robots.txt":
        return None
    return status_message(response.status)


def status_message(status: int) -> str:
    """``"429 Too Many Requests"``: Python's phrases, which know the codes Twisted's do not."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return response_status_message(status)


def describe_exception(exception: BaseException) -> str:
    """One readable line for a download failure (Twisted's reprs are long and nested)."""
    name = type(exception).__name__
    text = str(exception).strip()
    if "during decompression" in text and "DOWNLOAD_MAXSIZE" in text:  # a gzip bomb, or big
        return "body larger than the page-size cap once decompressed"
    if (
        type(exception).__module__ in ("zlib", "gzip", "brotli", "zstandard")
        or "decompress" in text
    ):
        return f"body could not be decompressed ({text or name})"
    cause = exception.__cause__
    if name.startswith("Download") and cause is not None:  # Scrapy's wrappers: say the cause
        return describe_exception(cause)
    if name == "ParseError" and exception.args:  # twisted.web: not HTTP
        return f"invalid HTTP response: {exception.args[0]}"
    reasons = getattr(exception, "reasons", None)
    if isinstance(reasons, list) and reasons:
        # twisted.web's ResponseNeverReceived/ResponseFailed: a list of Failures, whose repr
        # would be the message; describe what they wrap instead
        inner = "; ".join(
            dict.fromkeys(describe_exception(getattr(r, "value", r)) for r in reasons)
        )
        return inner if name == "ResponseNeverReceived" else f"response cut off: {inner}"
    if "larger than download max size" in text:  # Scrapy's words, with Content-Length
        return "larger than the page-size cap (max_page_size)"
    if name == "CancelledError" and not text:
        return "download cancelled (larger than the page-size cap, or the crawl stopping)"
    if name == "ConnectionLost":
        return "connection lost (the server dropped it)"
    if name == "ConnectionDone":
        return "connection closed by the server"
    if "Connection was refused" in text or name == "ConnectionRefusedError":
        return "connection refused"
    if name in ("TimeoutError", "TCPTimedOutError") or "took longer than" in text:
        return f"timeout: {text}" if text else "timeout"
    if name == "DNSLookupError":
        return f"DNS lookup failed: {text}"
    return f"{name}: {text}" if text else name
