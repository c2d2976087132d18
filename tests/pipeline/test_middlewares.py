"""Downloader middlewares that replace Scrapy's: same decisions, less work per page."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from pipeline.middlewares import PrecheckedMetaRefreshMiddleware

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
