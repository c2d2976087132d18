"""End to end: the sitemaps an outlet's robots.txt names (``Sitemap:`` lines).

"Homepage only" is configured with its front page alone, as a user who knows nothing else of
the site would; its robots.txt names a news sitemap (on the outlet's host) listing an article
the front page does not link, and a sitemap on another site. "Feeds" has a feed configured, so
its robots.txt sitemap is not read unless asked (``robots_sitemaps = true``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.demo.samples import OutletEntry, config_toml
from pipeline.demo.server import OutletServer, RequestInfo, Route, Site
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site
from storage.db import make_engine, make_session_factory
from storage.models import Article
from tests.e2e.test_crawl import run_newsmon
from tests.outlets import _Bench, corpus_pages, sitemap_xml

pytestmark = pytest.mark.e2e

HOME, HOME_ADDRESS = "Homepage only", "127.0.0.26"
FEEDS, FEEDS_ADDRESS = "Feeds", "127.0.0.27"
SOURCES = ["7a457a4f", "c467d507", "961bd85c"]


def _robots(path: str) -> Callable[[RequestInfo], Route]:
    def serve(request: RequestInfo) -> Route:
        text = (
            f"User-agent: *\nAllow: /\nSitemap: {request.base_url}{path}\n"
            "Sitemap: http://127.0.0.99/elsewhere.xml\n"  # another site: never read
        )
        return Route(text.encode(), "text/plain")

    return serve


def _site(name: str, address: str, pages: list[SourcePage], options: SiteOptions) -> Site:
    """``pages[0]`` linked from the front page, ``pages[1]`` only in the robots.txt sitemap."""
    site = build_site(name, address, pages[:1], options)
    hidden = build_site(name, address, pages[1:2], SiteOptions())
    site.routes[pages[1].path] = hidden.routes[pages[1].path]
    site.routes["/robots.txt"] = _robots("/hidden/news-sitemap.xml")
    site.routes["/hidden/news-sitemap.xml"] = lambda request: Route(
        sitemap_xml([request.base_url + pages[1].path]), "application/xml"
    )
    return site


def _stored(db_url: str) -> dict[str, set[str]]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(select(Article.url))
            found: dict[str, set[str]] = {}
            for (url,) in rows:
                address = url.split("//", 1)[1].split(":", 1)[0]
                found.setdefault(address, set()).add(url.rsplit(":", 1)[1].split("/", 1)[1])
            return found
    finally:
        engine.dispose()


@pytest.mark.parametrize("ask", [False, True])
def test_sitemaps_named_in_robots_txt_are_read_for_an_outlet_without_feeds_or_sitemaps(
    shared_corpus: Path, tmp_path: Path, ask: bool
) -> None:
    bench = _Bench(shared_corpus / "extraction-bench")
    now = datetime.now(UTC).replace(microsecond=0)
    pages = corpus_pages(bench, SOURCES, now, "Robots story")
    sites = [
        _site(HOME, HOME_ADDRESS, pages, SiteOptions(sections=("/",))),
        _site(FEEDS, FEEDS_ADDRESS, pages, SiteOptions(rss=True)),
    ]
    db_url = f"sqlite:///{tmp_path / 'news.db'}"
    with OutletServer(sites) as server:
        home = f"http://{HOME_ADDRESS}:{server.port}"
        feeds = f"http://{FEEDS_ADDRESS}:{server.port}"
        entries = [
            OutletEntry(HOME, [], [], [home + "/"]),
            OutletEntry(FEEDS, [feeds + "/feed.xml"], [], []),
        ]
        text = config_toml(db_url, entries, user_agent="newsmon-tests")
        if ask:
            text = text.replace(
                f'name = "{FEEDS}"\n', f'name = "{FEEDS}"\nrobots_sitemaps = true\n'
            )
        config = tmp_path / "newsmon.toml"
        config.write_text(text, "utf-8")
        result = run_newsmon("--config", str(config), "crawl")
        assert result.returncode == 0, result.stderr
        requested = {r.path for r in server.requests if r.address == FEEDS_ADDRESS}
    stored = _stored(db_url)
    linked, hidden = pages[0].path.lstrip("/"), pages[1].path.lstrip("/")
    assert stored[HOME_ADDRESS] == {linked, hidden}
    assert stored[FEEDS_ADDRESS] == ({linked, hidden} if ask else {linked})
    assert ("/hidden/news-sitemap.xml" in requested) is ask
