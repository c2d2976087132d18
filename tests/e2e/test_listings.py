"""End to end: feeds and sitemaps are asked for conditionally once every link on them was handled.

One outlet (RSS feed and a sitemap index with a Google News and a plain sitemap, all with ETag
and Last-Modified) crawled four times with ``--recheck none``:

1. one article answers 404: the pass is incomplete, so no validators are kept;
2. the article answers: listings are read in full again, the article is stored, validators kept;
3. nothing changed: feed and sitemap index answer 304, the index's children are still asked
   for (and answer 304), no article is fetched;
4. a new article appears: the listings answer 200 and the new article is stored;
5. the server stops sending validators: the listings answer 200 with the same bytes as in
   pass 4, which are not parsed again (the index still leads to its children).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.demo.server import Handler, OutletServer, RequestInfo, Route, Site
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site
from storage.db import make_engine, make_session_factory
from storage.models import CrawlRun, Fetch
from tests.e2e.test_crawl import run_newsmon
from tests.outlets import _Bench, corpus_pages, write_outlet_config

pytestmark = pytest.mark.e2e

ADDRESS = "127.0.0.21"
OUTLET = "Listings"
OPTIONS = SiteOptions(rss=True, news_sitemap=True, plain_sitemap=True)
SOURCES = ["7a457a4f", "c467d507", "961bd85c", "7de52419"]
LATE_SOURCE = "c7e39ac4"
FLAKY = 1  # index in SOURCES of the article that answers 404 in the first pass
VALIDATORS = ("etag", "last-modified")


@dataclass
class Pass:
    run_id: int
    fetches: list[tuple[str, str, int | None]]  # (kind, url, status)
    stats: dict[str, object]

    def statuses(self, kind: str) -> list[int | None]:
        return sorted((s for k, _, s in self.fetches if k == kind), key=lambda s: s or 0)


def _serve(
    site: Site, pages: list[SourcePage], *, flaky: SourcePage | None, validators: bool = True
) -> None:
    """Replace the routes of the running ``site`` (the server looks them up per request)."""
    built = build_site(OUTLET, ADDRESS, pages, OPTIONS)
    if flaky is not None:
        built.routes[flaky.path] = lambda _request: Route(b"<h1>Not found</h1>", status=404)
    site.routes.clear()
    site.routes.update(
        built.routes if validators else {p: _bare(h) for p, h in built.routes.items()}
    )


def _bare(handler: Handler) -> Handler:
    """The same bytes without ETag and Last-Modified: a server that never answers 304."""

    def serve(request: RequestInfo) -> Route:
        route = handler if isinstance(handler, Route) else handler(request)
        kept = {k: v for k, v in route.headers.items() if k.lower() not in VALIDATORS}
        return Route(route.body, route.content_type, route.status, kept)

    return serve


@pytest.fixture(scope="module")
def passes(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Pass]]:
    bench = _Bench(shared_corpus / "extraction-bench")
    now = datetime.now(UTC).replace(microsecond=0)
    pages = corpus_pages(bench, SOURCES, now, "Listed story")
    later = corpus_pages(bench, [*SOURCES, LATE_SOURCE], now, "Listed story")
    site = Site(OUTLET, ADDRESS)
    workdir = tmp_path_factory.mktemp("listings")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    with OutletServer([site]) as server:
        base = f"http://{ADDRESS}:{server.port}"
        config = write_outlet_config(workdir / "newsmon.toml", db_url, OUTLET, base, OPTIONS)
        plan = [
            (pages, pages[FLAKY], True),
            (pages, None, True),
            (pages, None, True),
            (later, None, True),
            (later, None, False),
        ]
        for served, flaky, validators in plan:
            _serve(site, served, flaky=flaky, validators=validators)
            result = run_newsmon("--config", str(config), "crawl", "--recheck", "none")
            assert result.returncode == 0, result.stderr
        yield _read_passes(db_url, base)


def _read_passes(db_url: str, base: str) -> list[Pass]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            runs = session.execute(select(CrawlRun.id, CrawlRun.stats).order_by(CrawlRun.id))
            return [
                Pass(
                    run_id,
                    [
                        (kind, url.removeprefix(base), status)
                        for kind, url, status in session.execute(
                            select(Fetch.kind, Fetch.url, Fetch.status).where(
                                Fetch.run_id == run_id
                            )
                        )
                    ],
                    stats,
                )
                for run_id, stats in runs
            ]
    finally:
        engine.dispose()


def test_incomplete_pass_keeps_no_validators_so_the_next_reads_listings_in_full(
    passes: list[Pass],
) -> None:
    first, second = passes[0], passes[1]
    assert 404 in first.statuses("article")
    assert first.statuses("feed") == [200]
    assert set(second.statuses("feed") + second.statuses("sitemap")) == {200}
    assert second.statuses("article") == [200]  # the article that failed, and only it


def test_unchanged_listings_answer_304_and_no_article_is_fetched(passes: list[Pass]) -> None:
    third = passes[2]
    assert third.statuses("feed") == [304]
    sitemaps = third.statuses("sitemap")
    assert len(sitemaps) == 3  # the index and both children, all unchanged
    assert set(sitemaps) == {304}
    assert third.statuses("article") == []


def test_a_changed_listing_is_read_in_full_and_its_new_article_stored(
    passes: list[Pass],
) -> None:
    fourth = passes[3]
    assert fourth.statuses("feed") == [200]
    assert 200 in fourth.statuses("sitemap")
    assert fourth.statuses("article") == [200]  # the new article only


def test_a_listing_served_again_byte_for_byte_is_not_parsed_again(passes: list[Pass]) -> None:
    fifth = passes[4]
    assert fifth.statuses("feed") == [200]
    assert fifth.statuses("sitemap") == [200, 200, 200]  # the index still leads to its children
    assert fifth.stats.get("newsmon/listings_same_body") == 4
    assert fifth.statuses("article") == []
