"""End to end: `newsmon crawl` stopped with Ctrl-C while an outlet hangs."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import make_engine, make_session_factory
from storage.models import CrawlRun
from tests.e2e.test_crawl import crawl_env

pytestmark = pytest.mark.e2e

ADDRESS = "127.0.0.28"


@pytest.fixture
def hanging_outlet() -> Iterator[str]:
    """An outlet that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind((ADDRESS, 0))
    listener.listen(16)
    try:
        yield f"http://{ADDRESS}:{listener.getsockname()[1]}"
    finally:
        listener.close()


def test_a_crawl_stopped_with_ctrl_c_is_recorded_as_interrupted(
    hanging_outlet: str, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'news.db'}"
    config = tmp_path / "newsmon.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[crawl]\nallow_private_addresses = true\n'
        'delay = "0s"\ntimeout = "60s"\nobey_robots = false\n'
        f'[[outlets]]\nname = "Hang"\nfeeds = ["{hanging_outlet}/feed.xml"]\n',
        encoding="utf-8",
    )
    crawl = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--config", str(config), "crawl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=crawl_env(),
    )  # fmt: skip
    time.sleep(4)  # the feed request is out and hanging
    crawl.send_signal(signal.SIGINT)  # Scrapy: finish what is in flight (up to the timeout)
    time.sleep(1)
    crawl.send_signal(signal.SIGINT)  # Scrapy: stop now
    _, err = crawl.communicate(timeout=60)
    assert crawl.returncode == 130, err
    assert "crawl interrupted" in err
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        run = session.scalars(select(CrawlRun)).one()
        assert (run.status, run.finished_at is not None) == ("interrupted", True)
    engine.dispose()
