"""The crawl summary: counts per outlet, then every error a user has to see once."""

from __future__ import annotations

from pipeline.render import console, print_crawl_summary
from storage.models import CrawlRunOutlet
from storage.runs import FailedFetch


def summary(rows: list[tuple[str, CrawlRunOutlet]], errors: list[FailedFetch]) -> str:
    with console.capture() as captured:
        print_crawl_summary(rows, errors)
    return captured.get()


def outlet(errors: int, last_error: str | None) -> CrawlRunOutlet:
    return CrawlRunOutlet(
        discovered=3, fetched=2, new_articles=1, new_versions=0, unchanged=0,
        errors=errors, last_error=last_error,
    )  # fmt: skip


def test_errors_without_a_failed_request_are_listed_beside_the_failed_requests() -> None:
    page = FailedFetch("A", "https://a.example/2023/gone", "404 Not Found", attempts=1)
    robots = FailedFetch("A", "https://a.example/robots.txt", "connection refused", attempts=1)
    not_sitemap = "https://a.example/rss.xml: not a sitemap: root element <rss>"
    text = summary([("A", outlet(2, not_sitemap))], [page, robots])
    assert "A: https://a.example/2023/gone: 404 Not Found" in text
    assert f"A: {not_sitemap}" in text  # 2 errors, 1 failed page (robots.txt is not counted)


def test_an_outlets_last_error_already_listed_is_not_repeated() -> None:
    retried = FailedFetch("B", "https://b.example/feed", "500 Internal Server Error", attempts=3)
    last = "https://b.example/feed: 500 Internal Server Error"
    text = summary([("B", outlet(1, last))], [retried])
    assert text.count("500 Internal Server Error") == 1
    assert "(3 attempts)" in text


def test_every_listing_error_of_an_outlet_is_listed_once() -> None:
    gone = FailedFetch("C", "https://c.example/2023/story", "404 Not Found", attempts=1)
    messages = [
        "https://c.example/feed.xml.gz: not an RSS/Atom feed (not well-formed)",
        "https://c.example/sitemap.xml: not a sitemap: root element <html>",
        "https://c.example/2023/story: HTTP 404",  # the spider's words for the failed request
    ]
    with console.capture() as captured:
        print_crawl_summary([("C", outlet(3, messages[-1]))], [gone], {"C": messages})
    text = captured.get()
    assert f"C: {messages[0]}" in text
    assert f"C: {messages[1]}" in text
    assert text.count("https://c.example/2023/story") == 1  # in the fetch log's words only
    assert "404 Not Found" in text


def test_a_robots_txt_failure_is_explained_once() -> None:
    refused = FailedFetch("D", "https://d.example/robots.txt", "500 Internal Server Error", 1)
    said = (
        "https://d.example/robots.txt: HTTP 500; the host is treated as disallowed for this "
        "pass (RFC 9309)"
    )
    with console.capture() as captured:
        print_crawl_summary([("D", outlet(1, said))], [refused], {"D": [said]})
    text = captured.get()
    assert text.count("https://d.example/robots.txt") == 1
    assert "treated as disallowed" in text
