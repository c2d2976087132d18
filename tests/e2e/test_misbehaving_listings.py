"""End to end: listings as broken as real sites make them, and a crawl that still ends well.

- "Loops": a sitemap index that lists itself and a sub-index listing the index back (a common
  sitemap-plugin mistake), a feed and sitemap with a link whose port is no number between good
  links, and two articles served as a download and with no Content-Type.
- "Feed host": a feed on a host of its own whose links all point to another host, not in the
  outlet's domains (FeedBurner-style): nothing to crawl, and the crawl must say why.
- "Robots hang": a robots.txt that never answers in time. RFC 9309: unreachable means
  "disallow everything", so the outlet's feed and article are never requested.
- "Hanging": a feed of 12 articles whose pages never answer in time: after 3 requests in a row
  given up, the rest are left for the next pass (one hanging site must not hold a crawl, and
  every outlet in it, for 12 timeouts).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.demo.samples import OutletEntry, config_toml
from pipeline.demo.server import OutletServer, RequestInfo, Route, Site
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site
from storage.db import make_engine, make_session_factory
from storage.models import Article, CrawlRun, CrawlRunOutlet, Fetch, Outlet
from storage.runs import outlet_messages
from tests.e2e.test_crawl import run_newsmon
from tests.outlets import _Bench, corpus_pages, sitemap_xml

pytestmark = pytest.mark.e2e

LOOPS, LOOPS_ADDRESS = "Loops", "127.0.0.22"
FEED_HOST, FEED_ADDRESS, ARTICLES_ADDRESS = "Feed host", "127.0.0.23", "127.0.0.24"
HANG, HANG_ADDRESS = "Robots hang", "127.0.0.25"
HANGING, HANGING_ADDRESS = "Hanging", "127.0.0.28"
SOURCES = ["7a457a4f", "c467d507", "961bd85c", "7de52419"]
XML = "application/xml"


def _rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>Story</title><link>{url}</link></item>" for url in links)
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed</title>'
        f"<link>/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def _listing(render: Callable[[str], bytes]) -> Callable[[RequestInfo], Route]:
    """A listing whose absolute URLs need the server's port, known only per request."""
    return lambda request: Route(render(request.base_url), XML)


def _loops_site(pages: list[SourcePage]) -> Site:
    site = build_site(LOOPS, LOOPS_ADDRESS, pages, SiteOptions())
    paths = [page.path for page in pages]
    bad = "http://" + LOOPS_ADDRESS + ":80x/2026/12/broken-port.html"
    site.routes["/feed.xml"] = _listing(lambda base: _rss([base + paths[0], bad, base + paths[1]]))
    site.routes["/sitemap.xml"] = _listing(
        lambda base: sitemap_xml(
            [f"{base}/sitemap.xml", f"{base}/sub.xml", f"{base}/articles.xml"], index=True
        )
    )
    site.routes["/sub.xml"] = _listing(
        lambda base: sitemap_xml([base + "/sitemap.xml"], index=True)
    )
    site.routes["/articles.xml"] = _listing(
        lambda base: sitemap_xml([base + paths[2], bad.replace("80x", "99999"), base + paths[3]])
    )
    # a misconfigured server: one article as a download, another with no type at all
    for path, kind in ((paths[1], "application/octet-stream"), (paths[3], "")):
        served = site.routes[path]
        site.routes[path] = lambda request, served=served, kind=kind: Route(
            served(request).body if callable(served) else served.body, kind
        )
    return site


def _feed_host_site(port_of: Callable[[], int]) -> Site:
    site = Site(FEED_HOST, FEED_ADDRESS)
    site.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
    site.routes["/feeds/outlet"] = lambda _request: Route(
        _rss([f"http://{ARTICLES_ADDRESS}:{port_of()}/2026/12/story-{n}.html" for n in range(3)]),
        XML,
    )
    return site


def _robots_hang_site(pages: list[SourcePage]) -> Site:
    site = build_site(HANG, HANG_ADDRESS, pages[:1], SiteOptions(rss=True))

    def slow_robots(_request: RequestInfo) -> Route:
        time.sleep(3)  # the crawl gives up after 1 s
        return Route(b"User-agent: *\nDisallow: /\n", "text/plain")

    site.routes["/robots.txt"] = slow_robots
    return site


def _hanging_site(pages: list[SourcePage]) -> Site:
    site = build_site(HANGING, HANGING_ADDRESS, pages, SiteOptions(rss=True))

    def never_in_time(_request: RequestInfo) -> Route:
        time.sleep(2)  # the crawl gives up after 1 s
        return Route(b"<html><body>late</body></html>")

    for page in pages:
        site.routes[page.path] = never_in_time
    return site


@dataclass
class Crawl:
    returncode: int
    stdout: str
    fetches: Counter[str]  # path: times fetched
    requested: list[str]  # what the server of HANG was asked for
    hanging_requests: int  # article pages of HANGING asked for
    stored: set[str]
    errors: dict[str, tuple[int, str | None]]  # outlet: (error count, last error)
    messages: dict[str, list[str]]  # outlet: every distinct error
    paths: list[str]


@pytest.fixture(scope="module")
def crawl(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    bench = _Bench(shared_corpus / "extraction-bench")
    pages = corpus_pages(bench, SOURCES, datetime.now(UTC).replace(microsecond=0), "Loop story")
    ports: list[int] = []
    hanging = corpus_pages(bench, SOURCES * 3, datetime.now(UTC), "Hanging story")
    sites = [
        _loops_site(pages),
        _feed_host_site(lambda: ports[0]),
        _robots_hang_site(pages),
        _hanging_site(hanging),
    ]
    workdir = tmp_path_factory.mktemp("misbehaving")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    with OutletServer(sites) as server:
        ports.append(server.port)
        loops = f"http://{LOOPS_ADDRESS}:{server.port}"
        entries = [
            OutletEntry(LOOPS, [loops + "/feed.xml"], [loops + "/sitemap.xml"], []),
            OutletEntry(FEED_HOST, [f"http://{FEED_ADDRESS}:{server.port}/feeds/outlet"], [], []),
            OutletEntry(HANG, [f"http://{HANG_ADDRESS}:{server.port}/feed.xml"], [], []),
            OutletEntry(HANGING, [f"http://{HANGING_ADDRESS}:{server.port}/feed.xml"], [], []),
        ]
        config = workdir / "newsmon.toml"
        text = config_toml(db_url, entries, user_agent="newsmon-tests")
        text = text.replace("[crawl]\n", '[crawl]\ntimeout = "1s"\nretries = 0\n', 1)
        config.write_text(text, "utf-8")
        result = run_newsmon("--config", str(config), "crawl", timeout=120)
        requested = [r.path for r in server.requests if r.address == HANG_ADDRESS]
        hanging_requests = sum(
            1 for r in server.requests if r.address == HANGING_ADDRESS and "hanging-story" in r.path
        )
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            fetched = Counter(
                url.split(str(server.port), 1)[-1] for url in session.scalars(select(Fetch.url))
            )
            stored = {
                url.split(str(server.port), 1)[-1] for url in session.scalars(select(Article.url))
            }
            rows = session.execute(
                select(Outlet.name, CrawlRunOutlet.errors, CrawlRunOutlet.last_error).join(
                    Outlet, Outlet.id == CrawlRunOutlet.outlet_id
                )
            )
            errors = {outlet: (count, last) for outlet, count, last in rows}
            run_id = session.scalar(select(CrawlRun.id).order_by(CrawlRun.id.desc()))
            messages = outlet_messages(session, run_id)
    finally:
        engine.dispose()
    paths = [p.path for p in pages]
    return Crawl(
        result.returncode,
        result.stdout,
        fetched,
        requested,
        hanging_requests,
        stored,
        errors,
        messages,
        paths,
    )


def test_a_sitemap_index_listing_itself_is_read_once_and_the_crawl_ends(crawl: Crawl) -> None:
    assert crawl.returncode == 0
    for path in ("/sitemap.xml", "/sub.xml", "/articles.xml"):
        assert crawl.fetches[path] == 1, path


def test_a_link_with_a_bad_port_costs_only_itself(crawl: Crawl) -> None:
    loops = {path for path in crawl.stored if "loop-story" in path}
    assert loops == set(crawl.paths)  # the links after the bad ones too


def test_a_feed_whose_links_are_all_off_the_outlets_domains_says_so(crawl: Crawl) -> None:
    count, last = crawl.errors[FEED_HOST]
    assert count == 1
    assert "none of its 3 links is on the outlet's domains (127.0.0.23)" in (last or "")
    assert f"they point to {ARTICLES_ADDRESS}: add it to `domains`" in (last or "")
    assert crawl.errors[LOOPS] == (0, None)


def test_a_robots_txt_that_never_answers_disallows_the_host(crawl: Crawl) -> None:
    # neither the feed nor the article was served (robots.txt is logged once answered, 3 s on)
    assert set(crawl.requested) <= {"/robots.txt"}
    count, last = crawl.errors[HANG]
    assert count >= 1
    assert "robots.txt of 127.0.0.25" in (last or "")
    assert "treated as disallowed for this pass (RFC 9309)" in (last or "")


def test_an_outlet_that_stops_answering_is_left_for_the_next_pass(crawl: Crawl) -> None:
    assert crawl.hanging_requests < 12  # not every page waited for
    count, _ = crawl.errors[HANGING]
    skips = [m for m in crawl.messages[HANGING] if "not answering" in m]
    assert len(skips) == 1
    assert skips[0].startswith("not answering (3 requests in a row failed, the last: timeout")
    assert skips[0].endswith("outlet skipped for this pass")
    # the 3 pages given up, those in flight then (2 at a time; a freed slot may start one more
    # before the skip), and the skip once
    assert count <= 3 + 2 + 1 + 1
    assert crawl.hanging_requests <= 3 + 2 + 1
