"""`newsmon demo` works offline from the bundled outlets, as the README's first command runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_crawl import crawl_env

pytestmark = pytest.mark.e2e


def newsmon(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd, capture_output=True, text=True, timeout=240, env=crawl_env(), check=False,
    )  # fmt: skip


def test_demo_stores_every_bundled_article_and_shows_how_to_query(tmp_path: Path) -> None:
    result = newsmon(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "newsmon-demo.db").is_file()
    assert "Harbor Gazette: 6" in result.stdout
    assert "Capital Ledger: 6" in result.stdout
    assert "Northern Wire: 6" in result.stdout
    assert "Try:" in result.stdout

    db = f"sqlite:///{tmp_path / 'newsmon-demo.db'}"
    search = newsmon(tmp_path, "--db", db, "search", "duvet OR Europa", "--json")
    assert search.returncode == 0, search.stderr
    hits = [json.loads(line) for line in search.stdout.splitlines()]
    assert {hit["outlet"] for hit in hits} == {"Harbor Gazette", "Capital Ledger", "Northern Wire"}

    again = newsmon(tmp_path, "demo")  # a second run starts afresh: new port, new URLs
    assert again.returncode == 0, again.stderr
    assert "Harbor Gazette: 6" in again.stdout
