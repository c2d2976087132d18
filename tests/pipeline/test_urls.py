"""Canonical article URLs: tracking and cosmetic variants collapse to one."""

from __future__ import annotations

import pytest

from pipeline.urls import absolute_url, article_url, canonicalize_url, host_in_domains, is_variant


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("HTTPS://News.Example:443/a/story-one?utm_source=rss&utm_medium=feed",
         "https://news.example/a/story-one"),
        ("https://news.example/a/story-one/#comments", "https://news.example/a/story-one"),
        ("https://news.example/a/story-one?fbclid=abc&gclid=d", "https://news.example/a/story-one"),
        ("https://news.example/a/story?id=42&utm_campaign=x", "https://news.example/a/story?id=42"),
        ("http://127.0.0.2:8080/2026/11/x.html?utm_source=rss", "http://127.0.0.2:8080/2026/11/x.html"),
    ],
)  # fmt: skip
def test_canonical_form_drops_tracking_and_cosmetics(variant: str, canonical: str) -> None:
    assert canonicalize_url(variant) == canonical


def test_extra_tracking_parameters_are_configurable() -> None:
    url = "https://news.example/a?id=1&src=home"
    assert canonicalize_url(url, ["src"]) == "https://news.example/a?id=1"


def test_absolute_url_ignores_non_http_links() -> None:
    assert absolute_url("https://n.example/", "http://[::1/broken") is None
    assert absolute_url("https://n.example/a/", "b") == "https://n.example/a/b"
    assert absolute_url("https://n.example/", "javascript:void(0)") is None
    assert absolute_url("https://n.example/", "mailto:x@y") is None


@pytest.mark.parametrize(
    "href",
    ["http://n.example:80x/2024/story.html", "http://n.example:99999/story", "http:///story"],
)
def test_absolute_url_refuses_a_link_with_a_bad_port_or_no_host(href: str) -> None:
    assert absolute_url("https://n.example/", href) is None


def test_subdomains_belong_to_their_domain() -> None:
    assert host_in_domains("www.axios.com", ["axios.com"])
    assert not host_in_domains("evilaxios.com", ["axios.com"])


@pytest.mark.parametrize(
    ("variant", "article"),
    [
        ("https://m.example.com/a/story?utm_source=x", "https://example.com/a/story"),
        ("https://mobile.example.com/a/story", "https://example.com/a/story"),
        ("https://amp.theguardian.com/world/x", "https://www.theguardian.com/world/x"),
        ("https://en.m.wikipedia.org/wiki/X", "https://en.wikipedia.org/wiki/X"),
        ("https://www.bbc.com/news/amp/world-123", "https://www.bbc.com/news/world-123"),
        ("https://news.example/2026/11/story.amp.html", "https://news.example/2026/11/story.html"),
        ("https://news.example/2026/11/story.amp", "https://news.example/2026/11/story"),
        ("https://news.example/a/story?amp=1&id=2", "https://news.example/a/story?id=2"),
        ("https://www.wp.example/a/story/?outputType=amp", "https://www.wp.example/a/story"),
        ("http://m.localhost:8080/2026/11/x.html", "http://localhost:8080/2026/11/x.html"),
    ],
)  # fmt: skip
def test_amp_and_mobile_variants_map_to_their_article(variant: str, article: str) -> None:
    main_hosts = ["www.theguardian.com", "localhost"]
    assert article_url(variant, main_hosts) == article
    assert is_variant(variant, main_hosts)


@pytest.mark.parametrize(
    "url",
    [
        "https://m.com/story",  # "m" is the domain itself
        "https://news.example/a/example-story",
        "https://news.example/a/story?output=html",
        "https://news.example/a/camp/story",
    ],
)
def test_ordinary_urls_are_not_variants(url: str) -> None:
    assert article_url(url) == canonicalize_url(url)
    assert not is_variant(url)


def test_news_trackers_and_configured_parameters_are_dropped() -> None:
    url = "https://news.example/a?id=7&mc_cid=1&mc_eid=2&cmpid=rss&smid=tw&src=home"
    assert canonicalize_url(url, ["src"]) == "https://news.example/a?id=7"
    assert article_url(url + "&outputType=amp", (), ["src"]) == "https://news.example/a?id=7"
    assert canonicalize_url("https://news.example/a/story?amp") == "https://news.example/a/story"
