"""The workers' fork server starts before the crawl's own start-up only on a first crawl."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.repository import get_or_create_outlet, outlets_without_articles
from tests.procfs import HAS_PROC
from tests.storage.test_search import add_article

ROOT = Path(__file__).resolve().parents[2]

# In a process of its own: a fork server is started once per process.
CHECK = """
import sys
from pipeline.prestart import warm_workers_for_new_outlets
from tests.procfs import fork_servers_of

url = sys.argv[1]
for outlets in sys.argv[2:]:
    started = warm_workers_for_new_outlets(url, outlets.split(","))
    print(started, len(fork_servers_of()))
"""


def warm(url: str, *outlet_lists: str) -> list[str]:
    """What each call printed: whether it started the fork server, and how many run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHECK, url, *outlet_lists], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120, check=True)  # fmt: skip
    return done.stdout.strip().splitlines()


@pytest.fixture
def crawled_before(tmp_path: Path) -> str:
    """A database holding one article of Coast News and none of Harbour Times."""
    url = f"sqlite:///{tmp_path / 'news.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        add_article(session, "Coast News", "Ferries every half hour", "From April on. " * 20)
        get_or_create_outlet(session, "Harbour Times")
    engine.dispose()
    return url


def test_outlets_without_articles_are_those_never_stored(crawled_before: str) -> None:
    engine = make_engine(crawled_before)
    with make_session_factory(engine)() as session:
        found = outlets_without_articles(session, ["Coast News", "Harbour Times", "Bay Post"])
    engine.dispose()
    assert found == ["Harbour Times", "Bay Post"]


needs_proc = pytest.mark.skipif(not HAS_PROC, reason="reads /proc")


@needs_proc
def test_a_crawl_of_known_outlets_leaves_the_fork_server_to_the_first_page(
    crawled_before: str,
) -> None:
    """Then a pass that finds nothing new never loads trafilatura; an outlet without stored
    articles makes every listed page new, and the fork server starts at once."""
    assert warm(crawled_before, "Coast News", "Coast News,Harbour Times") == ["False 0", "True 1"]


@needs_proc
def test_a_database_not_created_yet_is_a_first_crawl(tmp_path: Path) -> None:
    assert warm(f"sqlite:///{tmp_path / 'new' / 'news.db'}", "Coast News") == ["True 1"]


@needs_proc
def test_an_unusable_database_starts_nothing_and_raises_nothing(tmp_path: Path) -> None:
    """The crawl reports the database itself, with its usual message."""
    assert warm("mysql://localhost/news", "Coast News") == ["False 0"]
    assert warm("postgresql+psycopg://nobody@127.0.0.1:1/none", "Coast News") == ["False 0"]
