"""End to end: ``scrapy crawl news`` from the repo root (developers) uses newsmon.toml as
``newsmon crawl`` does: its database, its private-address permission, its outlets."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.demo.server import OutletServer
from pipeline.demo.sitebuilder import SiteOptions, build_site
from storage.db import make_engine, make_session_factory
from storage.models import Article
from tests.e2e.test_crawl import crawl_env
from tests.outlets import _Bench, corpus_pages, write_outlet_config

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ADDRESS = "127.0.0.30"


def test_scrapy_crawl_news_applies_the_config(shared_corpus: Path, tmp_path: Path) -> None:
    bench = _Bench(shared_corpus / "extraction-bench")
    pages = corpus_pages(bench, ["7a457a4f", "c467d507"], datetime.now(UTC), "Dev story")
    options = SiteOptions(rss=True)
    site = build_site("Dev", ADDRESS, pages, options)
    db_url = f"sqlite:///{tmp_path / 'dev.db'}"  # in the config only: not ./newsmon.db
    with OutletServer([site]) as server:
        config = write_outlet_config(
            tmp_path / "newsmon.toml", db_url, "Dev", f"http://{ADDRESS}:{server.port}", options
        )
        env = {k: v for k, v in crawl_env().items() if not k.startswith("NEWSMON_")}
        done = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"NEWSMON_CONFIG={config}",
             "-s", "LOG_LEVEL=WARNING"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (REPO / "newsmon.db").exists()
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 2
    engine.dispose()
