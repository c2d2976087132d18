"""The spider fetches the article behind an AMP or mobile link, and the link when that fails."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from spiders.discovery import Link
from spiders.news import NewsSpider
from tests.spiders.test_news_spider import make_spider


def spider(tmp_path: Path) -> NewsSpider:
    """Outlet N lives at www.news.example and drops ``src`` parameters."""
    made = make_spider(tmp_path)
    made.outlets["N"] = made.outlets["N"].__class__(
        name="N", feeds=("https://www.news.example/feed",), domains=("news.example",)
    )
    made.tracking_params = ("src",)
    made.main_hosts = {"N": {"www.news.example"}}
    return made


def consider(made: NewsSpider, url: str) -> list[Request]:
    return list(made._consider(Link(url=url), made.outlets["N"], via="feed"))


def test_variants_are_fetched_as_their_article_once(tmp_path: Path) -> None:
    made = spider(tmp_path)
    (first,) = consider(made, "https://m.news.example/2026/11/fire.html?src=home")
    assert first.url == "https://www.news.example/2026/11/fire.html"
    assert first.meta["newsmon_variant"] == "https://m.news.example/2026/11/fire.html"
    assert consider(made, "https://www.news.example/2026/11/fire.amp.html") == []  # same article
    (plain,) = consider(made, "https://www.news.example/2026/11/other.html?utm_source=x&src=a")
    assert plain.url == "https://www.news.example/2026/11/other.html"
    assert "newsmon_variant" not in plain.meta


def test_a_missing_guess_falls_back_to_the_listed_variant(tmp_path: Path) -> None:
    made = spider(tmp_path)
    (guess,) = consider(made, "https://www.news.example/amp/fire.html")
    response = HtmlResponse(guess.url, status=404, body=b"<html></html>", request=guess)
    (fallback,) = made.parse_article(response)
    assert fallback.url == "https://www.news.example/amp/fire.html"
    assert fallback.meta["newsmon_listed_url"] == "https://www.news.example/amp/fire.html"
    assert "https://www.news.example/amp/fire.html" in made.listed_as[fallback.url]


def test_an_unreachable_guessed_host_falls_back_too(tmp_path: Path) -> None:
    made = spider(tmp_path)
    made.main_hosts = {"N": {"news.example"}}
    (guess,) = consider(made, "https://mobile.news.example/fire")
    assert guess.url == "https://news.example/fire"
    failure = Failure(DNSLookupError("no such host"))
    failure.request = guess  # type: ignore[attr-defined]
    (fallback,) = made._variant_failed(failure)
    assert fallback.url == "https://mobile.news.example/fire"
