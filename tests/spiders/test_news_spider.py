"""The news spider's decisions, without a network: what gets queued, with which headers."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from spiders.discovery import Link
from spiders.news import NewsSpider, _looks_like_html
from storage.repository import KnownArticle

NOW = datetime.now(UTC)


def make_spider(tmp_path: Path, recheck: str = "due") -> NewsSpider:
    config = tmp_path / "newsmon.toml"
    config.write_text(
        '[[outlets]]\nname = "N"\nfeeds = ["https://news.example/feed"]\n', encoding="utf-8"
    )
    settings = Settings()
    settings.setmodule("pipeline.settings")
    settings.update(
        {
            "NEWSMON_CONFIG": str(config),
            "NEWSMON_DATABASE_URL": "",
            "NEWSMON_RECHECK": recheck,
            "NEWSMON_CONFIGURED": True,  # as `newsmon crawl` sets them: no config applied on top
            "TWISTED_REACTOR": None,  # unit test: no reactor is started
            "EXTENSIONS": {},  # nor database bookkeeping
        }
    )
    import twisted.internet.reactor  # noqa: F401  (the crawler wants one installed; never run)

    crawler = get_crawler(NewsSpider, settings.copy_to_dict())
    crawler._apply_settings()
    return NewsSpider.from_crawler(crawler)


def known(url: str, checked_hours_ago: float = 1, article_id: int = 7) -> KnownArticle:
    return KnownArticle(
        id=article_id, outlet="N", url=url,
        last_checked_at=NOW - timedelta(hours=checked_hours_ago), next_check_at=None,
        etag='"abc"', last_modified="Mon, 13 Nov 2023 10:00:00 GMT", raw_hash="f" * 64,
        removed=False,
    )  # fmt: skip


def consider(spider: NewsSpider, link: Link) -> list[Request]:
    return list(spider._consider(link, spider.outlets["N"], via="feed"))


def test_new_article_is_queued_once_without_tracking_parameters(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    link = Link("https://news.example/2023/11/13/memo-story?utm_source=rss")
    (request,) = consider(spider, link)
    assert request.url == "https://news.example/2023/11/13/memo-story"
    assert consider(spider, Link("https://news.example/2023/11/13/memo-story")) == []


def test_stale_and_offsite_links_are_skipped(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    old = Link("https://news.example/2019/01/01/old-story", published_at=NOW - timedelta(days=400))
    assert consider(spider, old) == []
    assert consider(spider, Link("https://elsewhere.example/2023/11/13/story")) == []


def test_known_article_listed_with_a_newer_date_is_rechecked_at_once(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    url = "https://news.example/2023/11/13/memo-story"
    spider.known = {url: known(url)}
    assert consider(spider, Link(url, modified_at=NOW - timedelta(hours=3))) == []
    (request,) = consider(spider, Link(url, modified_at=NOW))
    assert request.meta["newsmon_article_id"] == 7
    assert request.headers[b"If-None-Match"] == b'"abc"'
    assert request.headers[b"If-Modified-Since"] == b"Mon, 13 Nov 2023 10:00:00 GMT"
    assert 304 in request.meta["handle_httpstatus_list"]


def test_listing_dates_trigger_no_recheck_when_rechecks_are_off(tmp_path: Path) -> None:
    spider = make_spider(tmp_path, recheck="none")
    url = "https://news.example/2023/11/13/memo-story"
    spider.known = {url: known(url)}
    assert consider(spider, Link(url, modified_at=NOW)) == []


def test_due_articles_go_most_overdue_first(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    spider.due = [known(f"https://news.example/a-b-{n}", article_id=n) for n in range(3)]
    requests = start_requests(spider)
    rechecks = [r for r in requests if "newsmon_article_id" in r.meta]
    ordered = sorted(rechecks, key=lambda r: -r.priority)
    assert [r.meta["newsmon_article_id"] for r in ordered] == [0, 1, 2]
    # asked for once each, and never dropped by Scrapy's duplicate filter (as a redirect to a
    # URL fetched already would be): every due article gets its recheck recorded
    assert all(r.dont_filter for r in rechecks)


def announcements(spider: NewsSpider) -> list[int]:
    """Counts, as they happen, the spider's announcements that this crawl will extract."""
    from pipeline.signals import extraction_expected

    heard: list[int] = []
    spider.receiver = lambda: heard.append(1)  # signals hold their receivers weakly
    spider.crawler.signals.connect(spider.receiver, signal=extraction_expected)
    return heard


def start_requests(spider: NewsSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in spider.start()]

    return asyncio.run(collect())


def test_extraction_is_announced_once_when_the_first_new_article_is_queued(tmp_path: Path) -> None:
    """The extraction workers start then, not when the first page is already waiting."""
    spider = make_spider(tmp_path)
    stored = "https://news.example/2023/11/12/older-story"
    spider.known = {stored: known(stored)}
    heard = announcements(spider)
    start_requests(spider)
    consider(spider, Link(stored))
    assert heard == []  # an outlet with stored articles, and nothing new yet
    consider(spider, Link("https://news.example/2023/11/13/memo-story"))
    consider(spider, Link("https://news.example/2023/11/13/second-story"))
    assert heard == [1]


def test_an_outlets_first_crawl_announces_extraction_at_the_start(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    heard = announcements(spider)
    start_requests(spider)
    assert heard == [1]


def parsed(spider: NewsSpider, url: str, body: bytes) -> list[object]:
    """What the spider's feed callback yields for ``body``, parsed in its listing thread."""
    from scrapy.http import XmlResponse

    request = Request(url, meta={"newsmon_outlet": "N"})
    response = XmlResponse(url, body=body, request=request)

    async def collect() -> list[object]:
        return [out async for out in spider.parse_feed(response)]

    try:
        return asyncio.run(collect())
    finally:
        spider.listing_parser.shutdown()


def test_a_feed_is_read_off_the_reactor_into_article_requests(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    feed = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>N</title>"
        b"<item><title>Memo</title><link>https://news.example/2023/11/13/memo-story</link></item>"
        b"</channel></rss>"
    )
    (request,) = parsed(spider, "https://news.example/feed", feed)
    assert isinstance(request, Request)
    assert request.url == "https://news.example/2023/11/13/memo-story"


def test_a_broken_feed_is_counted_with_its_reason(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    assert parsed(spider, "https://news.example/feed", b"{not: xml}") == []
    stats = spider.crawler.stats
    assert stats.get_value("newsmon/outlet/N/errors") == 1
    assert "not an RSS/Atom or JSON feed (invalid JSON" in stats.get_value(
        "newsmon/outlet/N/last_error"
    )


def test_a_feed_cut_off_mid_way_yields_its_entries_is_an_error_and_is_not_remembered(
    tmp_path: Path,
) -> None:
    """Else a 304 next pass would hide the entries after the cut for as long as it is served."""
    spider = make_spider(tmp_path)
    items = b"".join(
        b"<item><title>S%d</title><link>https://news.example/2023/11/13/story-%d</link></item>"
        % (n, n)
        for n in range(6)
    )
    feed = b"<?xml version='1.0'?><rss version='2.0'><channel><title>N</title>" + items
    requests = parsed(spider, "https://news.example/feed", feed[: feed.index(b"S4")])
    assert [r.url for r in requests] == [
        f"https://news.example/2023/11/13/story-{n}" for n in range(4)
    ]
    error = spider.crawler.stats.get_value("newsmon/outlet/N/last_error")
    assert error.startswith("https://news.example/feed: feed cut off after 4 entries (malformed")
    assert spider.read_listings["N"] == {}


def test_an_html_page_given_as_a_feed_is_an_error_saying_so(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    assert parsed(spider, "https://news.example/feed", b"<html><p>gone</p></html>") == []
    assert spider.crawler.stats.get_value("newsmon/outlet/N/last_error") == (
        "https://news.example/feed: an HTML page, not a feed, and it names no feed"
    )


def test_the_feeds_an_html_page_names_are_read_instead(tmp_path: Path) -> None:
    spider = make_spider(tmp_path)
    page = (
        b"<!DOCTYPE html><html><head><title>News</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/rss/politics.xml">'
        b'<link rel="alternate" type="application/atom+xml" href="https://elsewhere.example/a">'
        b'<link rel="stylesheet" href="/style.css"></head><body><p>Front page</p></body></html>'
    )
    (request,) = parsed(spider, "https://news.example/", page)
    assert isinstance(request, Request)
    assert request.url == "https://news.example/rss/politics.xml"
    assert request.callback == spider.parse_feed
    assert not spider.crawler.stats.get_value("newsmon/outlet/N/errors")
    spider.listing_parser = ThreadPoolExecutor(1)  # ``parsed`` shut the first one down
    assert parsed(spider, "https://news.example/", page) == []  # each feed is read once


def test_an_article_link_redirecting_off_the_outlets_domains_is_an_error(tmp_path: Path) -> None:
    from scrapy.http import HtmlResponse

    spider = make_spider(tmp_path)
    link = "https://news.example/go/1"
    meta = {"newsmon_outlet": "N", "newsmon_kind": "article", "redirect_urls": [link]}
    request = Request(link, meta=meta)
    elsewhere = "https://other.example/2023/11/13/their-story"
    response = HtmlResponse(elsewhere, body=b"<html><p>theirs</p></html>", request=request)
    assert list(spider.parse_article(response)) == []
    assert spider.crawler.stats.get_value("newsmon/outlet/N/last_error") == (
        f"{elsewhere}: off the outlet's domains (a redirect from {link})"
    )


def test_a_section_page_without_article_links_is_an_error_not_silence(tmp_path: Path) -> None:
    from scrapy.http import HtmlResponse

    spider = make_spider(tmp_path)
    url = "https://news.example/politics"
    request = Request(url, meta={"newsmon_outlet": "N", "newsmon_kind": "section"})
    body = b'<html><body><a href="/about">About</a><a href="/tag/gaza">Gaza</a></body></html>'
    assert list(spider.parse_section(HtmlResponse(url, body=body, request=request))) == []
    assert spider.crawler.stats.get_value("newsmon/outlet/N/last_error") == (
        f"{url}: no link on this section page looks like an article of the outlet"
    )


def test_a_configured_feed_forbidden_by_robots_txt_is_an_error(tmp_path: Path) -> None:
    from scrapy.exceptions import IgnoreRequest
    from twisted.python.failure import Failure

    spider = make_spider(tmp_path)
    for kind, url in (("article", "https://news.example/2023/a-b-c"), ("feed", FEED)):
        failure = Failure(IgnoreRequest("Forbidden by robots.txt"))
        failure.request = Request(url, meta={"newsmon_outlet": "N", "newsmon_kind": kind})  # type: ignore[attr-defined]
        spider.failed(failure)
    stats = spider.crawler.stats
    assert stats.get_value("newsmon/outlet/N/robots_forbidden") == 2
    assert stats.get_value("newsmon/outlet/N/errors") == 1  # the feed, not the article
    assert stats.get_value("newsmon/outlet/N/last_error") == f"{FEED}: forbidden by robots.txt"


FEED = "https://news.example/feed"


def test_an_article_failed_after_the_fetch_log_let_it_through_is_logged_by_the_spider(
    tmp_path: Path,
) -> None:
    """A gzip bomb: the fetch log saw a 200 (left to the pipelines), then decompression failed."""
    from scrapy.exceptions import IgnoreRequest
    from twisted.python.failure import Failure

    from pipeline.middlewares import UNREPORTED
    from pipeline.signals import fetch_recorded

    spider = make_spider(tmp_path)
    records = []

    def keep(record: object) -> None:  # a named receiver: signals hold weak references
        records.append(record)

    spider.crawler.signals.connect(keep, signal=fetch_recorded)
    request = spider._request("https://news.example/bomb", spider.outlets["N"], "article",
                              spider.parse_article)  # fmt: skip
    request.meta[UNREPORTED] = True
    failure = Failure(
        IgnoreRequest("... exceeded DOWNLOAD_MAXSIZE (5242880 B) during decompression.")
    )
    failure.request = request  # type: ignore[attr-defined]
    spider.failed(failure)

    (record,) = records
    assert (record.url, record.error) == (
        "https://news.example/bomb",
        "body larger than the page-size cap once decompressed",
    )
    assert spider.crawler.stats.get_value("newsmon/outlet/N/errors") == 1


@pytest.mark.parametrize(
    ("content_type", "body", "html"),
    [
        (b"", b"<!DOCTYPE html><html><body>story</body></html>", True),
        (b"application/octet-stream", b"\xef\xbb\xbf\n <!-- cms --> <html lang=en>", True),
        (b"text/plain; charset=utf-8", b"<HTML><HEAD>", True),
        (b"text/plain", b"Just a note, not a page.", False),
        (b"application/pdf", b"<!DOCTYPE html>", False),  # a stated type is believed
        (b"application/octet-stream", b"%PDF-1.7", False),
    ],
)
def test_html_served_without_a_type_or_with_a_generic_one_is_read_as_html(
    content_type: bytes, body: bytes, html: bool
) -> None:
    assert _looks_like_html(content_type, body) is html
