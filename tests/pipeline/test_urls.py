"""Canonical article URLs: tracking and cosmetic variants collapse to one."""

from __future__ import annotations

import pytest

from pipeline.urls import absolute_url, canonicalize_url, host_in_domains


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
    assert absolute_url("https://n.example/a/", "b") == "https://n.example/a/b"
    assert absolute_url("https://n.example/", "javascript:void(0)") is None
    assert absolute_url("https://n.example/", "mailto:x@y") is None


def test_subdomains_belong_to_their_domain() -> None:
    assert host_in_domains("www.axios.com", ["axios.com"])
    assert not host_in_domains("evilaxios.com", ["axios.com"])
