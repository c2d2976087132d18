"""End to end: `newsmon crawl` in a subprocess against the local outlets A-E.

Asserts exactly what was stored: every reachable article once, the robots-disallowed and stale
ones never (not even requested), accents intact, failing outlets recorded while others finish.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from storage.db import make_engine, make_session_factory
from storage.models import Article, ArticleUrl, CrawlRun, CrawlRunOutlet, Fetch, Outlet, Version
from storage.repository import version_content

if TYPE_CHECKING:
    from tests.outlets import Scenario

pytestmark = pytest.mark.e2e


def crawl_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_newsmon(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=crawl_env(),
        check=False,
    )


def with_config_articles(config: str, outlet: str, urls: list[str]) -> str:
    """Also list ``urls`` as configured article URLs of ``outlet`` (start requests)."""
    marker = f'name = "{outlet}"\n'
    listed = ", ".join(f'"{u}"' for u in urls)
    return config.replace(marker, f"{marker}articles = [{listed}]\n", 1)


@pytest.fixture(scope="module")
def crawled(local_outlets: Scenario, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    config = with_config_articles(
        local_outlets.config(db_url), "Outlet A", local_outlets.disallowed_urls
    )
    config_path = workdir / "newsmon.toml"
    config_path.write_text(
        config.replace("[crawl]\n", '[crawl]\nretry_backoff = "0.1s"\n', 1), encoding="utf-8"
    )
    started = time.time()
    result = run_newsmon("--config", str(config_path), "crawl")
    requests = [r for r in local_outlets.server.requests if r.time >= started]
    return result, db_url, requests, config_path


def test_crawl_exits_zero_and_summarises_failing_outlets(crawled, local_outlets) -> None:  # type: ignore[no-untyped-def]
    result, *_ = crawled
    assert result.returncode == 0, result.stderr
    assert "Crawl summary" in result.stdout
    for outlet in local_outlets.failing_outlets:
        assert outlet in result.stdout
    assert "connection refused" in result.stdout
    assert "500" in result.stdout
    assert "Traceback" not in result.stderr


def test_every_reachable_article_is_stored_once(crawled, local_outlets) -> None:  # type: ignore[no-untyped-def]
    _, db_url, *_ = crawled
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        rows = session.execute(select(Article.url, Outlet.name).join(Outlet)).all()
        stored = dict(rows)
        expected = {e.url: e.outlet for e in local_outlets.expected}
        assert stored == expected
        for item in local_outlets.expected:
            article = session.scalar(select(Article).where(Article.url == item.url))
            assert article is not None
            (version,) = article.versions
            assert item.title_contains in version.title
            text, raw = version_content(session, version)
            assert item.text_contains in " ".join(text.split())
            assert raw is not None  # kept (compressed) so the page can be re-extracted
            assert b"<html" in raw.lower()
    engine.dispose()


def test_disallowed_and_stale_articles_are_never_requested(crawled, local_outlets) -> None:  # type: ignore[no-untyped-def]
    _, db_url, requests, _ = crawled
    port = local_outlets.server.port
    requested = {r.url(port).split("?")[0] for r in requests}
    for url in local_outlets.disallowed_urls + local_outlets.stale_urls:
        assert url not in requested
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        fetched = set(session.scalars(select(Fetch.url)))
        for url in local_outlets.disallowed_urls + local_outlets.stale_urls:
            assert url not in fetched
    engine.dispose()


def test_url_variants_become_aliases(crawled, local_outlets) -> None:  # type: ignore[no-untyped-def]
    _, db_url, *_ = crawled
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        for variant, canonical in local_outlets.aliases.items():
            owner = session.scalar(
                select(Article.url).join(ArticleUrl).where(ArticleUrl.url == variant)
            )
            assert owner == canonical, variant
    engine.dispose()


def test_failing_outlets_are_recorded_with_their_reason(crawled, local_outlets) -> None:  # type: ignore[no-untyped-def]
    _, db_url, *_ = crawled
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        run = session.scalar(select(CrawlRun))
        assert run is not None
        assert run.status == "finished"
        rows = dict(
            session.execute(
                select(Outlet.name, CrawlRunOutlet).join(
                    CrawlRunOutlet, CrawlRunOutlet.outlet_id == Outlet.id
                )
            ).all()
        )
        for outlet in local_outlets.failing_outlets:
            assert rows[outlet].errors > 0
            assert rows[outlet].last_error
            assert rows[outlet].new_articles == 0
        assert "connection refused" in (rows["Outlet E"].last_error or "")
        assert "500" in (rows["Outlet D"].last_error or "")
        for outlet in ("Outlet A", "Outlet B", "Outlet C"):
            assert rows[outlet].errors == 0, rows[outlet].last_error
            assert rows[outlet].new_articles == 4
        statuses = set(
            session.scalars(
                select(Fetch.status)
                .join(Outlet, Fetch.outlet_id == Outlet.id)
                .where(Outlet.name == "Outlet D")
            )
        )
        assert statuses == {500}
    engine.dispose()


def test_second_crawl_stores_nothing_new(crawled) -> None:  # type: ignore[no-untyped-def]
    _, db_url, _, config_path = crawled
    result = run_newsmon("--config", str(config_path), "crawl", "--outlet", "Outlet B")
    assert result.returncode == 0, result.stderr
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        assert len(session.scalars(select(Version)).all()) == 12
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["finished", "finished"]
    engine.dispose()


def test_private_addresses_are_refused_unless_allowed(local_outlets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db_url = f"sqlite:///{tmp_path / 'private.db'}"
    config = local_outlets.config(db_url).replace(
        "allow_private_addresses = true", "allow_private_addresses = false"
    )
    config_path = tmp_path / "newsmon.toml"
    config_path.write_text(config, encoding="utf-8")
    started = time.time()
    result = run_newsmon("--config", str(config_path), "crawl", "--outlet", "Outlet A")
    assert result.returncode == 0, result.stderr
    assert "private address" in result.stdout
    assert not [r for r in local_outlets.server.requests if r.time >= started]
