"""End to end: politeness and bad input, each on its own loopback outlet, in one crawl.

- robots.txt holds under concurrency: disallowed URLs listed in the feed, the sitemaps, the
  section page and the config itself are never requested;
- a robots ``Crawl-delay`` spaces the outlet's requests;
- ``Retry-After`` within the cap is waited for, a longer one skips the outlet for this pass;
- a PDF, a page without article text and an oversized page are recorded with their reason.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.demo.samples import OutletEntry, config_toml
from pipeline.demo.server import OutletServer, RequestInfo, RequestLog, Route, Site
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site, discovery_urls
from storage.db import make_engine, make_session_factory
from storage.models import Article, CrawlRunOutlet, Fetch, Outlet
from tests.e2e.test_crawl import crawl_env
from tests.outlets import _Bench

pytestmark = pytest.mark.e2e

SOURCE_IDS = ["7a457a4f", "c467d507", "961bd85c", "7de52419", "c7e39ac4", "92101975"]
ROBOTS, SLOW, BUSY, CLOSED, ODD = "Robots", "Slow", "Busy", "Closed", "Odd"
ADDRESSES = {ROBOTS: "127.0.0.10", SLOW: "127.0.0.11", BUSY: "127.0.0.12",
             CLOSED: "127.0.0.13", ODD: "127.0.0.14"}  # fmt: skip
ALL_LISTINGS = SiteOptions(rss=True, news_sitemap=True, plain_sitemap=True, sections=("news",))
DISALLOWED = 10
MAX_PAGE_SIZE = 400_000


@dataclass
class Politeness:
    server: OutletServer
    requests: list[RequestLog]
    stdout: str
    db_url: str
    disallowed: list[str]
    robots_allowed: list[str]


def pages(bench: _Bench, count: int, prefix: str) -> list[SourcePage]:
    """``count`` real articles with distinct slugs (corpus pages reused round-robin)."""
    now = datetime.now(UTC).replace(microsecond=0)
    result = []
    for n in range(count):
        source = bench.page(SOURCE_IDS[n % len(SOURCE_IDS)])
        result.append(
            SourcePage(
                html=source.html,
                original_url=source.url,
                title=f"{prefix} story {n}",
                published=now - timedelta(hours=n + 1),
                slug=f"{prefix.lower()}-story-number-{n}",
            )
        )
    return result


def busy_once(route_for: dict[str, object]) -> object:
    """Answer 503 + ``Retry-After: 1`` to the first request of each article, then serve it."""
    seen: set[str] = set()

    def handler(request: RequestInfo) -> Route:
        path = request.path_only
        if path not in seen:
            seen.add(path)
            return Route(b"busy", status=503, headers={"Retry-After": "1"})
        route = route_for[path]
        return route(request) if callable(route) else route  # type: ignore[return-value]

    return handler


def build_sites(bench: _Bench) -> tuple[list[Site], dict[str, list[SourcePage]]]:
    robots_pages = pages(bench, DISALLOWED + 2, ROBOTS)
    disallow = tuple(p.path for p in robots_pages[:DISALLOWED])
    by_outlet = {
        ROBOTS: robots_pages,
        SLOW: pages(bench, 3, SLOW),
        BUSY: pages(bench, 2, BUSY),
        CLOSED: pages(bench, 1, CLOSED),
        ODD: pages(bench, 3, ODD),
    }
    sites = [
        build_site(
            ROBOTS, ADDRESSES[ROBOTS], robots_pages, replace(ALL_LISTINGS, disallow=disallow)
        ),
        build_site(SLOW, ADDRESSES[SLOW], by_outlet[SLOW], SiteOptions(rss=True, crawl_delay=1.0)),
        build_site(BUSY, ADDRESSES[BUSY], by_outlet[BUSY], SiteOptions(rss=True)),
        build_site(CLOSED, ADDRESSES[CLOSED], by_outlet[CLOSED], SiteOptions(rss=True)),
        build_site(ODD, ADDRESSES[ODD], by_outlet[ODD], SiteOptions(rss=True)),
    ]
    busy = sites[2]
    original = dict(busy.routes)
    handler = busy_once(original)
    for page in by_outlet[BUSY]:
        busy.routes[page.path] = handler  # type: ignore[assignment]
    sites[3].routes["/feed.xml"] = Route(b"closed", status=503, headers={"Retry-After": "3600"})
    odd = sites[4]
    pdf, empty, huge = by_outlet[ODD]
    odd.routes[pdf.path] = Route(b"%PDF-1.4 not html", content_type="application/pdf")
    odd.routes[empty.path] = Route(
        b"<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a>"
        b"<a href='/login'>Log in</a></nav></body></html>"
    )
    padding = b"<!-- " + b"x" * (MAX_PAGE_SIZE + 1000) + b" -->"
    odd.routes[huge.path] = Route(
        b"<html><body><article><p>" + b"Big page. " * 100 + b"</p></article>" + padding
        + b"</body></html>"
    )  # fmt: skip
    return sites, by_outlet


@pytest.fixture(scope="module")
def polite_crawl(
    shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Politeness]:
    bench = _Bench(shared_corpus / "extraction-bench")
    sites, by_outlet = build_sites(bench)
    workdir = tmp_path_factory.mktemp("politeness")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    with OutletServer(sites) as server:
        base = {name: f"http://{address}:{server.port}" for name, address in ADDRESSES.items()}
        options = {ROBOTS: ALL_LISTINGS, SLOW: SiteOptions(rss=True), BUSY: SiteOptions(rss=True),
                   CLOSED: SiteOptions(rss=True), ODD: SiteOptions(rss=True)}  # fmt: skip
        entries = []
        for name, opts in options.items():
            urls = discovery_urls(base[name], opts)
            entries.append(OutletEntry(name, urls.feeds, urls.sitemaps, urls.sections))
        disallowed = [base[ROBOTS] + p.path for p in by_outlet[ROBOTS][:DISALLOWED]]
        allowed = [base[ROBOTS] + p.path for p in by_outlet[ROBOTS][DISALLOWED:]]
        config = config_toml(db_url, entries, user_agent="newsmon-tests (+https://example.org)")
        config = config.replace(
            f'name = "{ROBOTS}"\n',
            f'name = "{ROBOTS}"\narticles = [{", ".join(repr(u) for u in disallowed)}]\n'.replace(
                "'", '"'
            ),
        )
        config = config.replace(
            "[crawl]\n",
            f'[crawl]\nretry_backoff = "0.1s"\nconcurrency_per_outlet = 8\n'
            f"max_page_size = {MAX_PAGE_SIZE}\n",
        )
        config_path = workdir / "newsmon.toml"
        config_path.write_text(config, encoding="utf-8")
        started = time.time()
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "--config", str(config_path), "crawl"],
            capture_output=True, text=True, timeout=240, env=crawl_env(), check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        requests = [r for r in server.requests if r.time >= started]
        yield Politeness(server, requests, result.stdout, db_url, disallowed, allowed)


def requested_paths(crawl: Politeness, address: str) -> list[str]:
    return [r.path.split("?")[0] for r in crawl.requests if r.address == address]


def stored_urls(crawl: Politeness, outlet: str) -> set[str]:
    engine = make_engine(crawl.db_url)
    with make_session_factory(engine)() as session:
        urls = set(session.scalars(select(Article.url).join(Outlet).where(Outlet.name == outlet)))
    engine.dispose()
    return urls


def outlet_row(crawl: Politeness, outlet: str) -> CrawlRunOutlet:
    engine = make_engine(crawl.db_url)
    with make_session_factory(engine)() as session:
        row = session.scalar(
            select(CrawlRunOutlet)
            .join(Outlet, CrawlRunOutlet.outlet_id == Outlet.id)
            .where(Outlet.name == outlet)
        )
        assert row is not None
    engine.dispose()
    return row


def test_robots_disallowed_urls_are_never_requested_under_concurrency(
    polite_crawl: Politeness,
) -> None:
    paths = set(requested_paths(polite_crawl, ADDRESSES[ROBOTS]))
    port = polite_crawl.server.port
    for url in polite_crawl.disallowed:
        assert url.split(str(port), 1)[1] not in paths
    assert stored_urls(polite_crawl, ROBOTS) == set(polite_crawl.robots_allowed)
    assert "/robots.txt" in paths


def test_crawl_delay_from_robots_spaces_requests(polite_crawl: Politeness) -> None:
    times = sorted(
        r.time for r in polite_crawl.requests
        if r.address == ADDRESSES[SLOW] and r.path.endswith(".html")
    )  # fmt: skip
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.8, gaps


def test_short_retry_after_is_waited_for_then_the_article_is_stored(
    polite_crawl: Politeness,
) -> None:
    assert len(stored_urls(polite_crawl, BUSY)) == 2
    by_path: dict[str, list[float]] = {}
    for r in polite_crawl.requests:
        if r.address == ADDRESSES[BUSY] and r.path.endswith(".html"):
            by_path.setdefault(r.path, []).append(r.time)
    for times in by_path.values():
        assert len(times) == 2
        assert times[1] - times[0] >= 0.9


def test_long_retry_after_skips_the_outlet_for_this_pass(polite_crawl: Politeness) -> None:
    paths = requested_paths(polite_crawl, ADDRESSES[CLOSED])
    assert paths.count("/feed.xml") == 1
    row = outlet_row(polite_crawl, CLOSED)
    assert row.errors >= 1
    assert "Retry-After 3600s" in (row.last_error or "")
    assert "Closed" in polite_crawl.stdout


def test_non_html_empty_and_oversized_pages_are_recorded_not_stored(
    polite_crawl: Politeness,
) -> None:
    assert stored_urls(polite_crawl, ODD) == set()
    engine = make_engine(polite_crawl.db_url)
    with make_session_factory(engine)() as session:
        errors = list(
            session.scalars(
                select(Fetch.error)
                .join(Outlet, Fetch.outlet_id == Outlet.id)
                .where(Outlet.name == ODD, Fetch.error.is_not(None))
            )
        )
    engine.dispose()
    joined = "\n".join(errors)
    assert "no article" in joined
    assert outlet_row(polite_crawl, ODD).errors == 3
    row_error = outlet_row(polite_crawl, ODD).last_error or ""
    assert row_error
