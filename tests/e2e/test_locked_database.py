"""End to end: a crawl starting while another process holds SQLite's write lock waits for it.

SQLite fails a read-then-write transaction at once ("database is locked", no busy wait) when
another connection wrote meanwhile; a crawl (or the daemon's job store) must take the lock at
BEGIN and wait instead.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.demo.samples import OutletEntry, config_toml
from storage.migrate import upgrade_database
from tests.e2e.test_crawl import crawl_env

pytestmark = pytest.mark.e2e


def test_a_crawl_waits_for_a_write_lock_held_for_a_few_seconds(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    db_url = f"sqlite:///{db}"
    upgrade_database(db_url)
    # an outlet nobody answers for: the crawl records its error and ends
    entry = OutletEntry("Silent", ["http://127.0.0.29:9/feed.xml"], [], [])
    config = tmp_path / "newsmon.toml"
    text = config_toml(db_url, [entry], user_agent="newsmon-tests")
    config.write_text(text.replace("[crawl]\n", "[crawl]\nretries = 0\n", 1), "utf-8")
    holder = sqlite3.connect(db, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO outlets (name, created_at) VALUES ('Holder', '2026-12-01')")
    crawl = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--config", str(config), "crawl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=crawl_env(),
    )  # fmt: skip
    time.sleep(3)  # the crawl has started and wants to write
    holder.execute("COMMIT")
    holder.close()
    _, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 0, err
    assert "database is locked" not in err
