"""Downloader middlewares: Scrapy's decisions with less work per page, and the fetch log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import DownloadFailedError
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionDone, ConnectionLost, ConnectionRefusedError
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived

from pipeline.middlewares import (
    UNREPORTED,
    CallbackErrorMiddleware,
    FetchLogMiddleware,
    PrecheckedMetaRefreshMiddleware,
    RedirectedValidatorsMiddleware,
    RedirectLoopMiddleware,
    describe_exception,
)
from pipeline.settings import SPIDER_MIDDLEWARES
from pipeline.signals import FetchRecord, fetch_recorded

PAGE = "https://coast.example/ferries"
FILLER = "<p>" + "The harbour authority approved the new timetable. " * 40 + "</p>"


def _response(html: str, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(PAGE, body=html.encode(encoding), encoding=encoding, request=Request(PAGE))


@pytest.fixture
def middleware() -> PrecheckedMetaRefreshMiddleware:
    crawler = get_crawler(settings_dict={"METAREFRESH_ENABLED": True})
    return PrecheckedMetaRefreshMiddleware.from_crawler(crawler)


@pytest.mark.parametrize(
    "refresh",
    [
        '<meta http-equiv="refresh" content="0; url=/ferries-2026">',
        "<META HTTP-EQUIV='Refresh' CONTENT='0;URL=/ferries-2026'>",
    ],
)
def test_a_meta_refresh_in_the_head_still_redirects(
    middleware: PrecheckedMetaRefreshMiddleware, refresh: str
) -> None:
    html = f"<html><head>{refresh}</head><body>{FILLER}</body></html>"
    result = middleware.process_response(Request(PAGE), _response(html))
    assert isinstance(result, Request)
    assert result.url == "https://coast.example/ferries-2026"


def test_a_page_without_refresh_passes_through_undecoded(
    middleware: PrecheckedMetaRefreshMiddleware,
) -> None:
    response = _response(f"<html><head><title>Ferries</title></head><body>{FILLER}</body></html>")
    assert middleware.process_response(Request(PAGE), response) is response
    assert response._cached_ubody is None  # never decoded


def test_utf16_pages_get_scrapys_full_check(middleware: PrecheckedMetaRefreshMiddleware) -> None:
    html = '<html><head><meta http-equiv="refresh" content="0; url=/moved"></head></html>'
    response = _response(html, encoding="utf-16")  # with its byte-order mark
    result = middleware.process_response(Request(PAGE), response)
    scrapys = MetaRefreshMiddleware.from_crawler(get_crawler()).process_response(
        Request(PAGE), response
    )
    assert isinstance(result, Request)
    assert isinstance(scrapys, Request)
    assert result.url == scrapys.url


def test_a_dropped_connection_is_described_without_twisted_reprs() -> None:
    lost = ConnectionLost("Connection lost.")
    assert describe_exception(ResponseNeverReceived([Failure(lost)])) == (
        "connection lost (the server dropped it)"
    )
    assert describe_exception(ResponseFailed([Failure(ConnectionDone())])) == (
        "response cut off: connection closed by the server"
    )
    assert describe_exception(ConnectionRefusedError()) == "connection refused"
    cause = ResponseFailed([Failure(ParseError("non-integer status code", b"HTTP/1.1 OK"))])
    wrapped = DownloadFailedError(str(cause))  # Scrapy's wrapper: raise ... from cause
    wrapped.__cause__ = cause
    assert describe_exception(wrapped) == (
        "response cut off: invalid HTTP response: non-integer status code"
    )


def test_bodies_too_large_or_broken_once_decompressed_are_described_plainly() -> None:
    import zlib

    from scrapy.exceptions import IgnoreRequest

    bomb = IgnoreRequest(
        "Ignored response <200 https://coast.example/bomb> because its body (1073741824 B "
        "compressed to 1043674 B) exceeded DOWNLOAD_MAXSIZE (5242880 B) during decompression."
    )
    assert describe_exception(bomb) == "body larger than the page-size cap once decompressed"
    broken = zlib.error("Error -3 while decompressing data: incorrect header check")
    assert describe_exception(broken) == (
        "body could not be decompressed (Error -3 while decompressing data: incorrect header check)"
    )
    too_big = DownloadFailedError(
        "Expected to receive 5242897 bytes which is larger than download max size (5242880)"
    )
    assert describe_exception(too_big) == "larger than the page-size cap (max_page_size)"


def test_a_redirect_back_into_its_own_chain_is_an_error_naming_the_loop() -> None:
    from scrapy.exceptions import IgnoreRequest

    loops = RedirectLoopMiddleware()
    request = Request(
        "https://coast.example/b", meta={"redirect_urls": ["https://coast.example/a"]}
    )
    back = HtmlResponse("https://coast.example/b", status=302, headers={"Location": "/a"})
    with pytest.raises(IgnoreRequest, match="redirect loop: "):
        loops.process_response(request, back)
    assert request.meta["newsmon_error"] == (
        "redirect loop: https://coast.example/a -> https://coast.example/b -> https://coast.example/a"
    )
    assert request.meta[UNREPORTED] is True
    onward = HtmlResponse("https://coast.example/b", status=301, headers={"Location": "/c"})
    fresh = Request("https://coast.example/b", meta={"redirect_urls": ["https://coast.example/a"]})
    assert loops.process_response(fresh, onward) is onward


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("https://coast.example/robots.txt", 404, None),  # no robots.txt: everything allowed
        ("https://coast.example/robots.txt", 503, "503 Service Unavailable"),
        ("https://coast.example/feed.xml", 404, "404 Not Found"),
        ("https://coast.example/feed.xml", 304, None),
        ("https://coast.example/feed.xml", 429, "429 Too Many Requests"),
    ],
)
def test_the_fetch_log_records_an_error_only_for_a_failure(
    url: str, status: int, error: str | None
) -> None:
    crawler = get_crawler()
    records: list[FetchRecord] = []

    def collect(record: FetchRecord) -> None:  # a local name: receivers are weak references
        records.append(record)

    crawler.signals.connect(collect, signal=fetch_recorded)
    response = HtmlResponse(url, status=status, body=b"", request=Request(url))
    FetchLogMiddleware.from_crawler(crawler).process_response(Request(url), response)
    assert [(r.status, r.error) for r in records] == [(status, error)]


def test_a_page_the_spider_cannot_read_is_the_outlets_recorded_error() -> None:
    crawler = get_crawler(settings_dict={"SPIDER_MIDDLEWARES": SPIDER_MIDDLEWARES})
    assert crawler.settings.getdict("SPIDER_MIDDLEWARES")[
        "pipeline.middlewares.CallbackErrorMiddleware"
    ]
    records: list[FetchRecord] = []

    def collect(record: FetchRecord) -> None:
        records.append(record)

    crawler.signals.connect(collect, signal=fetch_recorded)
    url = "https://coast.example/politics/"
    request = Request(url, meta={"newsmon_outlet": "Coast", "newsmon_kind": "section"})
    response = HtmlResponse(url, body=b"<html></html>", request=request)
    middleware = CallbackErrorMiddleware.from_crawler(crawler)

    assert middleware.process_spider_exception(response, KeyError("href")) == []
    assert [(r.url, r.kind, r.error) for r in records] == [
        (url, "section", "could not be read: KeyError: 'href'")
    ]
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("newsmon/outlet/Coast/errors") == 1
    assert stats.get_value("newsmon/outlet/Coast/last_error") == (
        f"{url}: could not be read: KeyError: 'href'"
    )
    # a status error stays Scrapy's (HttpErrorMiddleware), logged once by the fetch log
    assert middleware.process_spider_exception(response, HttpError(response)) is None


CALLBACK_ERRORS_CRAWL = """
import json, socketserver, threading, http.server
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess

class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>page</body></html>")
    def log_message(self, *args):
        pass

server = socketserver.TCPServer(("127.0.0.72", 0), Page)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.72:{server.server_address[1]}"

class Failing(Spider):
    name = "failing"
    async def start(self):
        meta = {"newsmon_outlet": "O", "newsmon_kind": "feed"}
        yield Request(base + "/feed", callback=self.parse_feed, meta=meta)
    async def parse_feed(self, response):
        yield Request(base + "/section", callback=self.parse_section, meta={"newsmon_outlet": "O"})
        raise KeyError("entry")
    def parse_section(self, response):
        raise ValueError("anchor")
        yield

process = CrawlerProcess({"SPIDER_MIDDLEWARES": SPIDER_MIDDLEWARES, "LOG_LEVEL": "CRITICAL"})
crawler = process.create_crawler(Failing)
process.crawl(crawler)
process.start()
print(json.dumps({k: v for k, v in crawler.stats.get_stats().items() if k.startswith("newsmon")}))
"""


def test_scrapy_hands_errors_of_sync_and_async_callbacks_to_the_middleware(
    tmp_path: Path,
) -> None:
    """A real crawl: the async feed callback fails after yielding a request (which still
    runs), the section callback fails at once; both become the outlet's errors."""
    import json
    import subprocess
    import sys

    script = tmp_path / "crawl.py"  # a file: Scrapy reads its callbacks' source
    script.write_text("from pipeline.settings import SPIDER_MIDDLEWARES\n" + CALLBACK_ERRORS_CRAWL)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True,
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats["newsmon/outlet/O/errors"] == 2
    assert stats["newsmon/outlet/O/last_error"].endswith("could not be read: ValueError: anchor")


def test_a_redirected_request_carries_no_validators_of_the_url_it_left() -> None:
    headers = {"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 30 Nov 2026 08:00:00 GMT"}
    middleware = RedirectedValidatorsMiddleware()
    first = Request("http://127.0.0.2/2026/12/story.html", headers=headers)
    middleware.process_request(first)
    assert first.headers.get("If-None-Match") == b'"v1"'  # the article's own URL keeps them
    redirected = first.replace(url="http://127.0.0.2/")
    redirected.meta["redirect_urls"] = [first.url]
    middleware.process_request(redirected)
    assert b"If-None-Match" not in redirected.headers
    assert b"If-Modified-Since" not in redirected.headers
