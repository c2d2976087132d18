"""The loopback outlet server, the site builder, the bundled demo outlets and the test scenario."""

from __future__ import annotations

import gzip
import ipaddress
import json
import re
import socket
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest
from protego import Protego

from pipeline.demo.rewrite import PageIdentity, localize
from pipeline.demo.samples import DEMO_OPTIONS, demo_config_toml, demo_sites
from pipeline.demo.server import OutletServer, RequestInfo, Route, Site
from pipeline.demo.sitebuilder import (
    NON_ARTICLE_PATHS,
    SiteOptions,
    SourcePage,
    build_site,
    slug_from_url,
)
from tests.outlets import (
    OUTLET_A,
    OUTLET_B,
    OUTLET_C,
    OUTLET_D,
    OUTLET_E,
    TRACKING_QUERY,
    Scenario,
    write_config,
)

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
_URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "poster", "data", "cite", "background", "longdesc",
    "codebase", "manifest", "ping", "xlink:href", "icon", "itemid", "resource", "about",
}  # fmt: skip
_SRCSET_ATTRIBUTES = {"srcset", "imagesrcset", "data-srcset"}
_IDENTIFIER_ATTRIBUTES = {"itemtype", "prefix", "vocab", "typeof", "property"}
_MENTIONED_URL = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*:)?//[^\s\"'<>()]+")
_ALWAYS_OUTSIDE = "//flagged.invalid"
_CSS_URL = re.compile(r"(?i)(?:url\(\s*['\"]?|@import\s+['\"])([^'\")\s]+)")
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rss1": "http://purl.org/rss/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


@dataclass
class Fetched:
    status: int
    headers: Message
    body: bytes

    def text(self) -> str:
        return decode_page(self.body, self.headers.get("Content-Type", ""))


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    assert urlsplit(url).hostname.startswith("127."), url  # type: ignore[union-attr]
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


def decode_page(body: bytes, content_type: str) -> str:
    declared = re.search(r"charset=([\w-]+)", content_type) or re.search(
        rb"<meta charset=\"?([\w-]+)", body[:4096]
    )
    charset = declared.group(1) if declared else "utf-8"
    return body.decode(charset if isinstance(charset, str) else charset.decode())


def _site(name: str, address: str, routes: dict[str, Route], **kwargs: object) -> Site:
    return Site(name=name, address=address, routes=dict(routes), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def two_sites() -> Iterator[OutletServer]:
    sites = [
        _site("one", "127.0.0.2", {"/": Route(b"<p>one</p>", headers={"ETag": '"v1"'})}),
        _site(
            "two",
            "127.0.0.3",
            {"/": Route(b"<p>two</p>", headers={"Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"})},
        ),
    ]
    with OutletServer(sites) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server() -> Iterator[OutletServer]:
    with OutletServer(demo_sites()) as server:
        yield server


# --- server -------------------------------------------------------------------------------------


def test_each_address_serves_its_own_site_on_one_port(two_sites: OutletServer) -> None:
    one, two = two_sites.base_url("one"), two_sites.base_url("two")
    assert urlsplit(one).port == urlsplit(two).port == two_sites.port
    assert fetch(one + "/").body == b"<p>one</p>"
    assert fetch(two + "/").body == b"<p>two</p>"
    assert [(r.address, r.status) for r in two_sites.requests] == [
        ("127.0.0.2", 200),
        ("127.0.0.3", 200),
    ]


def test_unknown_path_is_404(two_sites: OutletServer) -> None:
    fetched = fetch(two_sites.url("one", "/nope.html"))
    assert fetched.status == 404
    assert b"Not Found" in fetched.body


def test_query_string_falls_back_to_the_path(two_sites: OutletServer) -> None:
    assert fetch(two_sites.url("one", "/?utm_source=rss")).body == b"<p>one</p>"


def test_if_none_match_answers_304(two_sites: OutletServer) -> None:
    first = fetch(two_sites.url("one", "/"))
    assert first.headers["ETag"] == '"v1"'
    again = fetch(two_sites.url("one", "/"), {"If-None-Match": '"v1"'})
    assert (again.status, again.body) == (304, b"")
    assert fetch(two_sites.url("one", "/"), {"If-None-Match": '"old"'}).status == 200


def test_if_modified_since_answers_304(two_sites: OutletServer) -> None:
    later = {"If-Modified-Since": "Tue, 03 Nov 2026 10:00:00 GMT"}
    earlier = {"If-Modified-Since": "Sun, 01 Nov 2026 10:00:00 GMT"}
    assert fetch(two_sites.url("two", "/"), later).status == 304
    assert fetch(two_sites.url("two", "/"), earlier).status == 200


def test_gzip_only_when_accepted() -> None:
    body = b"<p>" + b"news " * 400 + b"</p>"
    with OutletServer([_site("big", "127.0.0.2", {"/": Route(body)})]) as server:
        plain = fetch(server.url("big", "/"))
        zipped = fetch(server.url("big", "/"), {"Accept-Encoding": "gzip"})
    assert plain.body == body
    assert plain.headers["Content-Encoding"] is None
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == body


def test_head_sends_headers_without_body(two_sites: OutletServer) -> None:
    fetched = fetch(two_sites.url("one", "/"), method="HEAD")
    assert fetched.status == 200
    assert fetched.headers["Content-Length"] == str(len(b"<p>one</p>"))
    assert fetched.body == b""


def test_dynamic_handler_sees_the_request() -> None:
    calls: list[RequestInfo] = []

    def flaky(request: RequestInfo) -> Route:
        calls.append(request)
        if len(calls) == 1:
            return Route(b"busy", status=503, headers={"Retry-After": "1"})
        return Route(request.base_url.encode())

    site = Site("flaky", "127.0.0.2", routes={"/x": flaky})
    with OutletServer([site]) as server:
        first, second = fetch(server.url("flaky", "/x")), fetch(server.url("flaky", "/x"))
    assert (first.status, first.headers["Retry-After"]) == (503, "1")
    assert second.body.decode() == server.base_url("flaky")
    assert calls[0].headers["user-agent"].startswith("Python-urllib")


def test_refused_address_refuses_connections() -> None:
    site = _site("up", "127.0.0.2", {"/": Route(b"up")})
    with OutletServer([site], refused=["127.0.0.3"]) as server:
        assert fetch(server.url("up", "/")).body == b"up"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.3", server.port), timeout=5).close()


def test_request_log_records_every_request(two_sites: OutletServer) -> None:
    fetch(two_sites.url("one", "/a?b=c"), {"User-Agent": "newsmon-tests"})
    (entry,) = two_sites.requests
    assert (entry.address, entry.method, entry.path, entry.status) == (
        "127.0.0.2",
        "GET",
        "/a?b=c",
        404,
    )
    assert entry.headers["user-agent"] == "newsmon-tests"
    assert two_sites.requested_urls() == [two_sites.url("one", "/a?b=c")]


def test_rejects_addresses_off_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        OutletServer([_site("x", "10.0.0.1", {})])


# --- page rewriting -----------------------------------------------------------------------------

SAVED_PAGE = """<!DOCTYPE html><html xmlns:og="http://ogp.me/ns#"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="30;url=https://news.example.com/">
<base href="https://news.example.com/">
<link rel="canonical" href="https://news.example.com/2019/storm.html">
<link rel="amphtml" href="https://news.example.com/amp/storm.html">
<link rel="alternate" type="application/rss+xml" href="/rss">
<link rel="stylesheet" href="//cdn.example.net/site.css">
<link rel="dns-prefetch" href="//ads.example">
<meta property="og:url" content="https://news.example.com/2019/storm.html">
<meta property="og:image" content="https://cdn.example.net/i.jpg">
<meta property="article:published_time" content="2019-11-19T08:00:00Z">
<style>@import url("https://fonts.example.net/f.css");
body {background: url(//cdn.example.net/b.png)}</style><script src="https://cdn.example.net/app.js"></script>
<script>window.location = "https://tracker.example.net/";</script>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "url": "https://news.example.com/2019/storm.html", "datePublished": "2019-11-19",
 "publisher": {"@type": "Organization", "name": "News", "sameAs": ["https://twitter.com/news"]}}
</script></head><body itemscope itemtype="http://schema.org/NewsArticle"><article>
<h1>Storm hits the coast</h1>
<p>The storm reached <a href="https://news.example.com/tag/storm">the coast</a> at dawn.</p>
<img src="https://cdn.example.net/a.jpg" srcset="//cdn.example.net/a2.jpg 2x" alt="Waves"
 data-src="https://cdn.example.net/a.jpg">
<p style="background:url(https://cdn.example.net/x.png)">Residents were evacuated.</p>
<iframe src="https://www.youtube.com/embed/x"></iframe>
<video poster="https://cdn.example.net/p.jpg"><source src="https://cdn.example.net/v.mp4"></video>
<svg><use xlink:href="https://cdn.example.net/icons.svg#i"></use></svg>
<form action="https://news.example.com/subscribe"><input name="email"></form>
<a href="/2019/related.html">Related</a></article></body></html>"""


def test_localize_drops_every_outside_reference() -> None:
    local = "http://127.0.0.2:8000/2026/11/storm.html"
    identity = PageIdentity(
        original_url="https://news.example.com/2019/storm.html",
        local_url=local,
        site_name="Harbor Gazette",
        published=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
    )
    assert len(outside_references(local, SAVED_PAGE)) >= 15  # the checker sees them all
    page = localize(SAVED_PAGE, identity)
    assert outside_references(local, page) == []
    root = lxml.html.document_fromstring(page)
    assert root.xpath("//link[@rel='canonical']/@href") == [local]
    assert root.xpath("//meta[@property='og:url']/@content") == [local]
    assert root.xpath("//meta[@property='og:site_name']/@content") == ["Harbor Gazette"]
    published = root.xpath("//meta[@property='article:published_time']/@content")
    assert published == ["2026-11-28T09:30:00+00:00"]
    assert not root.xpath("//base | //link[@rel='amphtml'] | //meta[@http-equiv='refresh']")
    (jsonld,) = root.xpath("//script[@type='application/ld+json']/text()")
    data = json.loads(jsonld)
    assert (data["@context"], data["url"]) == ("https://schema.org", local)
    assert data["datePublished"] == "2026-11-28T09:30:00+00:00"
    assert not data["publisher"].get("sameAs")
    text = " ".join(root.text_content().split())
    assert "The storm reached the coast at dawn. Residents were evacuated." in text
    assert root.xpath("//a[text()='Related']/@href") == ["/2019/related.html"]


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://www.bbc.com/news/world-europe-50473792", "world-europe-50473792"),
        ("https://www.livescience.com/feather-duvet-lung.html", "feather-duvet-lung"),
        ("https://www.cnn.com/2019/11/18/politics/trump-health/index.html", "trump-health-index"),
        ("http://www.panarmenian.net/eng/news/275221/", "eng-news-275221"),
        ("https://example.com/", "article"),
    ],
)
def test_slug_from_url(url: str, slug: str) -> None:
    assert slug_from_url(url) == slug


def _tiny_page(slug: str, hours_ago: int) -> SourcePage:
    html = f"<html><head><title>{slug}</title></head><body><p>Text of {slug}.</p></body></html>"
    published = datetime(2026, 11, 28, 12, tzinfo=UTC) - timedelta(hours=hours_ago)
    return SourcePage(html, f"https://example.com/{slug}.html", slug.title(), published)


def test_site_options_choose_what_an_outlet_publishes() -> None:
    pages = [_tiny_page("first", 1), _tiny_page("second", 2)]
    options = SiteOptions(rss=True, disallow=("/private/",), crawl_delay=2.5)
    site = build_site("Feed Only", "127.0.0.2", pages, options)
    assert {"/feed.xml", "/robots.txt", "/2026/11/first.html", *NON_ARTICLE_PATHS} <= set(
        site.routes
    )
    assert not {"/atom.xml", "/rss1.xml", "/sitemap.xml", "/section/news"} & set(site.routes)
    with OutletServer([site]) as server:
        robots = Protego.parse(fetch(server.url("Feed Only", "/robots.txt")).body.decode())
        home = lxml.html.document_fromstring(fetch(server.url("Feed Only", "/")).body)
    assert robots.crawl_delay("newsmon") == 2.5
    assert not robots.can_fetch(server.url("Feed Only", "/private/x.html"), "newsmon")
    assert home.xpath("//ul[@class='headlines']//a/@href") == [p.path for p in pages]


def test_site_rejects_two_pages_on_one_path() -> None:
    with pytest.raises(ValueError, match="set a slug"):
        build_site("Twice", "127.0.0.2", [_tiny_page("same", 1), _tiny_page("same", 1)])


# --- bundled demo outlets -----------------------------------------------------------------------


def test_demo_sites_load_from_package_data() -> None:
    sites = demo_sites()
    assert [s.address for s in sites] == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert [s.name for s in sites] == list(DEMO_OPTIONS)
    for site in sites:
        articles = [p for p in site.routes if re.fullmatch(r"/\d{4}/\d\d/[\w-]+\.html", p)]
        assert len(articles) == 6, site.name


def test_demo_config_is_valid_toml(demo_server: OutletServer) -> None:
    config = tomllib.loads(demo_config_toml(demo_server, "sqlite:////tmp/demo.db"))
    assert config["database"]["url"] == "sqlite:////tmp/demo.db"
    assert config["crawl"]["allow_private_addresses"] is True
    assert config["crawl"]["delay"] == "0s"
    outlets = {o["name"]: o for o in config["outlets"]}
    assert outlets["Harbor Gazette"]["feeds"] == [demo_server.url("Harbor Gazette", "/feed.xml")]
    assert outlets["Capital Ledger"]["sitemaps"] == [
        demo_server.url("Capital Ledger", "/sitemap.xml")
    ]
    assert outlets["Northern Wire"]["sections"] == [
        demo_server.url("Northern Wire", "/section/news")
    ]
    for url in [
        u for o in config["outlets"] for k in ("feeds", "sitemaps", "sections") for u in o[k]
    ]:
        assert fetch(url).status == 200, url


def test_demo_pages_have_no_outside_references(demo_server: OutletServer) -> None:
    assert_no_outside_references(demo_server)


def test_demo_articles_are_canonical_at_their_local_url(demo_server: OutletServer) -> None:
    for site in demo_server.sites:
        for path in [p for p in site.routes if p.endswith(".html")]:
            url = demo_server.url(site.name, path)
            root = lxml.html.document_fromstring(fetch(url).body)
            assert root.xpath("//link[@rel='canonical']/@href") == [url]
            assert set(root.xpath("//meta[@property='og:url']/@content")) <= {url}


def test_demo_feeds_and_sitemaps_are_well_formed(demo_server: OutletServer) -> None:
    rss = xml(demo_server.url("Harbor Gazette", "/feed.xml"))
    assert len(rss.findall("channel/item")) == 6
    atom = xml(demo_server.url("Capital Ledger", "/atom.xml"))
    assert len(atom.findall("atom:entry", NS)) == 6
    news = xml(demo_server.url("Capital Ledger", "/sitemap-news.xml"))
    assert len(news.findall("sm:url/news:news/news:publication_date", NS)) == 6
    plain = xml(demo_server.url("Northern Wire", "/sitemap-articles.xml"))
    assert len(plain.findall("sm:url/sm:lastmod", NS)) == 6


def test_demo_pages_link_non_article_pages_that_exist(demo_server: OutletServer) -> None:
    site = demo_server.sites[0]
    article = next(p for p in site.routes if p.endswith(".html"))
    root = lxml.html.document_fromstring(fetch(demo_server.url(site.name, article)).body)
    links = set(root.xpath("//a/@href"))
    for prefix in ("/tag/", "/author/", "/category/", "/video/", "/login"):
        linked = sorted(href for href in links if href.startswith(prefix))
        assert linked, prefix
        assert fetch(demo_server.url(site.name, linked[0])).status == 200


# --- test scenario (needs ../shared/corpus) -----------------------------------------------------


def test_scenario_pages_have_no_outside_references(local_outlets: Scenario) -> None:
    # The disallowed article is checked on a private server: the scenario's log must never show it.
    assert_no_outside_references(local_outlets.server, skip=set(local_outlets.disallowed_urls))
    with OutletServer([local_outlets.server.site(OUTLET_A)]) as private:
        assert_no_outside_references(private)


def test_scenario_feeds_and_sitemaps_are_well_formed(local_outlets: Scenario) -> None:
    server = local_outlets.server
    assert xml(server.url(OUTLET_A, "/feed.xml")).tag == "rss"
    assert xml(server.url(OUTLET_B, "/atom.xml")).tag == f"{{{NS['atom']}}}feed"
    assert xml(server.url(OUTLET_C, "/rss1.xml")).tag == f"{{{NS['rdf']}}}RDF"
    index = xml(server.url(OUTLET_B, "/sitemap.xml"))
    children = index.xpath("sm:sitemap/sm:loc/text()", namespaces=NS)
    assert children == [
        server.url(OUTLET_B, "/sitemap-news.xml"),
        server.url(OUTLET_B, "/sitemap-articles.xml"),
    ]
    for child in children:
        assert xml(child).tag == f"{{{NS['sm']}}}urlset"
    rdf_dates = xml(server.url(OUTLET_C, "/rss1.xml")).findall("rss1:item/dc:date", NS)
    assert len(rdf_dates) == 4


@pytest.mark.parametrize(
    ("outlet", "path", "version", "entries"),
    [
        (OUTLET_A, "/feed.xml", "rss20", 5),
        (OUTLET_B, "/atom.xml", "atom10", 4),
        (OUTLET_C, "/rss1.xml", "rss10", 4),
    ],
)
def test_scenario_feeds_parse_with_dates(
    local_outlets: Scenario, outlet: str, path: str, version: str, entries: int
) -> None:
    parsed = feedparser.parse(fetch(local_outlets.server.url(outlet, path)).body)
    assert (parsed.version, parsed.bozo, len(parsed.entries)) == (version, False, entries)
    for entry in parsed.entries:
        assert entry.title
        assert entry.link.startswith(local_outlets.server.base_url(outlet) + "/")
        assert entry.get("published_parsed") or entry.get("updated_parsed")


def test_disallowed_url_is_in_robots_txt_and_linked(local_outlets: Scenario) -> None:
    server = local_outlets.server
    (disallowed,) = local_outlets.disallowed_urls
    robots = fetch(server.url(OUTLET_A, "/robots.txt")).body.decode()
    assert f"Disallow: {urlsplit(disallowed).path}" in robots
    assert not Protego.parse(robots).can_fetch(disallowed, "newsmon-tests")
    feed_links = xml(server.url(OUTLET_A, "/feed.xml")).xpath("channel/item/link/text()")
    section = lxml.html.document_fromstring(fetch(server.url(OUTLET_A, "/section/news")).body)
    section.make_links_absolute(server.url(OUTLET_A, "/section/news"))
    assert disallowed in feed_links
    assert disallowed in section.xpath("//a/@href")


def test_one_feed_link_carries_tracking_parameters(local_outlets: Scenario) -> None:
    feed_links = xml(local_outlets.server.url(OUTLET_A, "/feed.xml")).xpath(
        "channel/item/link/text()"
    )
    tracked = [link for link in feed_links if TRACKING_QUERY in link]
    assert len(tracked) == 1
    canonical = local_outlets.aliases[tracked[0]]
    root = lxml.html.document_fromstring(fetch(tracked[0]).body)
    assert root.xpath("//link[@rel='canonical']/@href") == [canonical]


def test_stale_url_is_only_in_sitemaps_and_dated_years_ago(local_outlets: Scenario) -> None:
    server = local_outlets.server
    (stale,) = local_outlets.stale_urls
    news = xml(server.url(OUTLET_B, "/sitemap-news.xml"))
    (date,) = news.xpath(
        f"sm:url[sm:loc='{stale}']/news:news/news:publication_date/text()", namespaces=NS
    )
    assert date.startswith("2019-")
    plain = xml(server.url(OUTLET_B, "/sitemap-articles.xml"))
    assert plain.xpath(f"sm:url[sm:loc='{stale}']/sm:lastmod/text()", namespaces=NS)[0].startswith(
        "2019-"
    )
    atom_links = xml(server.url(OUTLET_B, "/atom.xml")).xpath("//atom:link/@href", namespaces=NS)
    assert stale not in atom_links
    assert stale not in [e.url for e in local_outlets.expected]


def test_duplicate_url_declares_the_canonical_one(local_outlets: Scenario) -> None:
    amp_url, canonical = next((a, c) for a, c in local_outlets.aliases.items() if "/amp/" in a)
    plain = xml(local_outlets.server.url(OUTLET_B, "/sitemap-articles.xml"))
    assert {amp_url, canonical} <= set(plain.xpath("sm:url/sm:loc/text()", namespaces=NS))
    amp = lxml.html.document_fromstring(fetch(amp_url).body)
    main = lxml.html.document_fromstring(fetch(canonical).body)
    assert amp.xpath("//link[@rel='canonical']/@href") == [canonical]
    assert main.xpath("//link[@rel='canonical']/@href") == [canonical]
    assert main.xpath("//link[@rel='amphtml']/@href") == [amp_url]


def test_outlet_c_serves_windows_1252(local_outlets: Scenario) -> None:
    charsets = []
    for article in [e for e in local_outlets.expected if e.outlet == OUTLET_C]:
        fetched = fetch(article.url)
        in_header = "windows-1252" in fetched.headers["Content-Type"]
        in_meta = b'<meta charset="windows-1252">' in fetched.body
        charsets.append((in_header, in_meta))
        assert article.text_contains.encode("cp1252") in fetched.body.replace(b"\xa0", b" ")
        with pytest.raises(UnicodeDecodeError):
            fetched.body.decode("utf-8")
    assert sorted(charsets) == [(False, True), (True, False), (True, True), (True, True)]


def test_expected_articles_are_served_with_their_fragments(local_outlets: Scenario) -> None:
    assert {e.outlet for e in local_outlets.expected} == {OUTLET_A, OUTLET_B, OUTLET_C}
    assert len(local_outlets.expected) == 12
    for article in local_outlets.expected:
        fetched = fetch(article.url)
        assert fetched.status == 200, article.url
        text = " ".join(lxml.html.document_fromstring(fetched.text()).text_content().split())
        assert article.text_contains in text.replace("\xa0", " "), article.url
        assert article.title_contains, article.url


def test_failing_outlets_fail(local_outlets: Scenario) -> None:
    config = tomllib.loads(local_outlets.config_toml)
    urls = {o["name"]: o["feeds"][0] for o in config["outlets"]}
    assert local_outlets.failing_outlets == [OUTLET_D, OUTLET_E]
    assert fetch(urls[OUTLET_D]).status == 500
    assert fetch(urls[OUTLET_D].replace("/feed.xml", "/robots.txt")).status == 500
    with pytest.raises(urllib.error.URLError):
        fetch(urls[OUTLET_E])


def test_write_config_round_trips(local_outlets: Scenario, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'news.db'}"
    path = write_config(local_outlets, tmp_path / "newsmon.toml", db_url)
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert config["database"]["url"] == db_url
    assert config["crawl"]["obey_robots"] is True
    assert [o["name"] for o in config["outlets"]] == [
        OUTLET_A,
        OUTLET_B,
        OUTLET_C,
        OUTLET_D,
        OUTLET_E,
    ]


# --- helpers ------------------------------------------------------------------------------------


def xml(url: str) -> lxml.etree._Element:
    fetched = fetch(url)
    assert fetched.status == 200, url
    return lxml.etree.fromstring(fetched.body)


def assert_no_outside_references(server: OutletServer, skip: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    problems = []
    for site in server.sites:
        for path in site.routes:
            url = server.url(site.name, path)
            if url in skip:
                continue
            fetched = fetch(url)
            if fetched.headers.get_content_type() == "text/html":
                problems += [f"{url}: {p}" for p in outside_references(url, fetched.text())]
    assert not problems, "\n".join(problems[:20])


def outside_references(page_url: str, html: str) -> list[str]:
    """Everything in the page a client could fetch or follow that is not on loopback."""
    root = lxml.html.document_fromstring(html)
    found: list[tuple[str, str]] = []  # (where, url)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            found += [(f"<{element.tag} {name}>", u) for u in _urls_in_attribute(name, value)]
        found += [(f"<{element.tag}> content", u) for u in _urls_in_content(element)]
    return [f"{where} {url!r}" for where, url in found if not _is_loopback(page_url, url)]


def _urls_in_attribute(name: str, value: str) -> list[str]:
    name = name.lower()
    if name in _IDENTIFIER_ATTRIBUTES or name.startswith("xmlns"):
        return []
    if name in _URL_ATTRIBUTES:
        return [value.strip()]
    if name in _SRCSET_ATTRIBUTES:
        return [part.split()[0] for part in value.split(",") if part.strip()]
    return _MENTIONED_URL.findall(value.replace("\\/", "/"))


def _urls_in_content(element: lxml.html.HtmlElement) -> list[str]:
    text = element.text or ""
    if element.tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
        return [_ALWAYS_OUTSIDE]
    if element.tag == "style":
        return _CSS_URL.findall(text)
    if element.tag != "script":
        return []
    if (element.get("type") or "").lower() != "application/ld+json":
        return [_ALWAYS_OUTSIDE]  # only JSON-LD scripts are kept
    return list(_json_strings(json.loads(text)))


def _json_strings(value: object, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in {"@context", "@type", "@vocab", "additionalType"}:
                yield from _json_strings(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, key)
    elif isinstance(value, str):
        yield from _MENTIONED_URL.findall(value)


def _is_loopback(page_url: str, url: str) -> bool:
    try:
        host = urlsplit(urljoin(page_url, url)).hostname
    except ValueError:
        return False
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False
