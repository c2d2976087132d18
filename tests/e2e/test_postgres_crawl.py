"""End to end into PostgreSQL: the demo outlets crawled, then rechecked, as on SQLite.

The writer's bulk statements (fetch rows with check times, listing validators, the article
look-up by canonical URL or alias) are dialect-sensitive; this runs them on a real server.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from pipeline.demo.samples import demo_config_toml, demo_sites
from pipeline.demo.server import OutletServer
from storage.db import make_engine, make_session_factory
from storage.models import Article, Fetch, Listing, Version
from tests.e2e.test_crawl import crawl_env
from tests.postgres import migrated_postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database after a first crawl of the demo outlets and a full recheck."""
    with migrated_postgres_database("newsmon_e2e") as url, OutletServer(demo_sites()) as server:
        config = tmp_path_factory.mktemp("pg") / "newsmon.toml"
        config.write_text(demo_config_toml(server, url), encoding="utf-8")
        for extra in ([], ["--recheck", "all"]):
            result = subprocess.run(
                [sys.executable, "-m", "pipeline", "--config", str(config), "crawl", *extra],
                capture_output=True, text=True, timeout=240, env=crawl_env(), check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
        yield url


def _scalar(url: str, statement):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(statement)
    finally:
        engine.dispose()


def test_every_demo_article_is_stored_once_with_one_version(crawled: str) -> None:
    assert _scalar(crawled, select(func.count()).select_from(Article)) == 18
    assert _scalar(crawled, select(func.count()).select_from(Version)) == 18


def test_the_recheck_is_answered_304_and_moves_every_check_time(crawled: str) -> None:
    last_run = _scalar(crawled, select(func.max(Fetch.run_id)))
    not_modified = select(func.count()).where(
        Fetch.run_id == last_run, Fetch.kind == "article", Fetch.status == 304
    )
    assert _scalar(crawled, not_modified) == 18
    stale = select(func.count()).where(Article.last_checked_at < Article.first_seen_at)
    assert _scalar(crawled, stale) == 0
    checked_in_last_run = select(func.count()).where(
        Article.last_checked_at
        == select(func.max(Fetch.fetched_at))
        .where(Fetch.article_id == Article.id)
        .scalar_subquery()
    )
    assert _scalar(crawled, checked_in_last_run) == 18


def test_listing_validators_are_kept_and_used(crawled: str) -> None:
    assert _scalar(crawled, select(func.count()).select_from(Listing)) >= 3
    last_run = _scalar(crawled, select(func.max(Fetch.run_id)))
    fresh_listings = select(func.count()).where(
        Fetch.run_id == last_run,
        Fetch.kind.in_(["feed", "sitemap", "section"]),
        Fetch.status == 200,
    )
    assert _scalar(crawled, fresh_listings) == 0  # all 304
