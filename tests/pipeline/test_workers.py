"""Extraction in the worker pool: an outlet's configured selectors reach the worker processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.config import ExtractRules
from pipeline.workers import (
    WORKER_DIED,
    WORKER_NICENESS,
    Extracted,
    ExtractionPool,
    extract_in_worker,
)
from tests.pipeline.test_extraction_sites import BODY, SECOND, outlet_page
from tests.pipeline.worker_tasks import CRASH, HANG, SLOW, crash_or_hang
from tests.procfs import is_running, parent_of, resident_mb

RULES = ExtractRules(body=("div.story",), title=("h1.headline",), drop=(".related",))


def test_configured_rules_choose_title_and_body_and_drop_promos() -> None:
    result = extract_in_worker(outlet_page(), "https://coast.example/ferries", "text/html", RULES)
    assert result.article is not None
    assert result.article.title == "Ferries every half hour from April"
    assert BODY in result.article.text
    assert SECOND in result.article.text
    assert "Related:" not in result.article.text
    assert "Great news for the island" not in result.article.text


def test_a_page_that_breaks_the_extractor_comes_back_as_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unforeseen parser failure on one page is that page's error, not the crawl's."""
    import pipeline.extraction.article

    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pipeline.extraction.article, "extract_article", broken)
    result = extract_in_worker(outlet_page(), "https://coast.example/ferries", "text/html")
    assert result.article is None
    assert result.reason == "extraction error: RecursionError: maximum recursion depth exceeded"


def test_workers_prepare_the_features_of_the_text_they_return() -> None:
    """Post-processing trusts these for the stored text: they must be of the final text."""
    from pipeline.features import prepare

    url = "https://coast.example/ferries"
    result = extract_in_worker(outlet_page(), url, "text/html", RULES)
    assert result.article is not None
    article = result.article
    assert result.features == prepare(article.title, article.text, article.language)
    assert extract_in_worker(outlet_page(), url, "text/html", features=False).features is None


def test_rules_travel_to_the_worker_processes() -> None:
    odd_title = ExtractRules(title=("//nav/a[2]",))  # visibly not what the generic rules pick

    async def run() -> list[str]:
        pool = ExtractionPool(1)
        pool.start()
        try:
            results = await asyncio.gather(
                pool.extract(outlet_page(), "https://coast.example/f", "text/html", odd_title),
                pool.extract(outlet_page(), "https://coast.example/f", "text/html", None),
            )
        finally:
            pool.close()
        return [r.article.title if r.article else "" for r in results]

    assert asyncio.run(run()) == ["Local", "Ferries every half hour from April"]


def test_workers_run_at_a_lower_priority_than_the_crawler() -> None:
    async def niceness_in_worker() -> int:
        pool = ExtractionPool(1)
        pool.start()
        try:
            assert pool._executor is not None
            return await asyncio.wrap_future(pool._executor.submit(os.nice, 0))
        finally:
            pool.close()

    assert asyncio.run(niceness_in_worker()) >= min(19, os.nice(0) + WORKER_NICENESS)


def _sigint_handler() -> object:
    import signal

    return signal.getsignal(signal.SIGINT)


def test_workers_leave_ctrl_c_to_the_crawler() -> None:
    import signal

    async def handler_in_worker() -> object:
        pool = ExtractionPool(1)
        pool.start()
        try:
            assert pool._executor is not None
            return await asyncio.wrap_future(pool._executor.submit(_sigint_handler))
        finally:
            pool.close()

    assert asyncio.run(handler_in_worker()) == signal.SIG_IGN


def test_features_are_prepared_for_new_articles_not_for_rechecks() -> None:
    """A recheck's changed bytes are mostly the same text: signing them would be wasted."""
    from datetime import UTC, datetime

    from scrapy.utils.test import get_crawler

    from pipeline.items import FetchedPage
    from pipeline.pipelines import ExtractArticlePipeline

    crawler = get_crawler(settings_dict={"NEWSMON_EXTRACT_WORKERS": 0})
    extraction = ExtractArticlePipeline(crawler)

    def page(article_id: int | None) -> FetchedPage:
        url = "https://coast.example/ferries"
        return FetchedPage("Coast", url, url, 200, outlet_page(), datetime.now(UTC),
                           content_type="text/html", article_id=article_id)  # fmt: skip

    new, recheck = (asyncio.run(extraction.process_item(page(a))) for a in (None, 7))
    assert new.article is not None
    assert new.features is not None
    assert recheck.article is not None
    assert recheck.features is None


FORK_SERVER_CHECK = """
from scrapy.utils.test import get_crawler
from pipeline.pipelines import ExtractArticlePipeline
from pipeline.signals import extraction_expected
from tests.procfs import fork_servers_of

if __name__ == "__main__":
    extraction = ExtractArticlePipeline(get_crawler(settings_dict={"NEWSMON_EXTRACT_WORKERS": 1}))
    extraction.pool.start()
    before = len(fork_servers_of())
    extraction.crawler.signals.send_catch_log(signal=extraction_expected)
    print(before, len(fork_servers_of()))
    extraction.pool.close()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_the_fork_server_starts_as_soon_as_the_spider_expects_extraction() -> None:
    """Its preload (trafilatura, numpy) then runs beside the crawl's start, on another core,
    instead of holding the reactor when the first page is submitted. Its own process: a fork
    server is started once per process."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", FORK_SERVER_CHECK], capture_output=True,
                          text=True, env=env, cwd=root, timeout=120, check=True)  # fmt: skip
    assert done.stdout.split() == ["0", "1"]


def run_pages(pool: ExtractionPool, bodies: list[bytes]) -> list[Extracted]:
    """Extract ``bodies`` concurrently in ``pool``, then the first once more after all that."""

    async def run() -> list[Extracted]:
        results = await asyncio.gather(
            *(pool.extract(body, f"https://coast.example/{n}", "text/html")
              for n, body in enumerate(bodies))
        )  # fmt: skip
        return [*results, await pool.extract(bodies[0], "https://coast.example/again", None)]

    pool.start()
    try:
        return asyncio.run(run())
    finally:
        pool.close()


def test_a_page_that_kills_its_worker_is_recorded_and_the_pages_beside_it_are_extracted() -> None:
    """A crash in a parser's C code or the OOM killer breaks the whole process pool: the pages
    that were in flight with it are extracted again in a fresh pool, and the crawl goes on."""
    pool = ExtractionPool(2, task=crash_or_hang)
    bodies = [outlet_page(), outlet_page() + CRASH, outlet_page(), outlet_page()]
    results = run_pages(pool, bodies)

    assert [r.article is not None for r in results] == [True, False, True, True, True]
    assert results[1].reason == WORKER_DIED
    assert pool.restarts >= 2  # once with the pages beside it, once when it was tried alone


def test_a_page_that_never_finishes_is_given_up_and_its_worker_stopped() -> None:
    pool = ExtractionPool(2, timeout=3.0, task=crash_or_hang)
    bodies = [outlet_page(), outlet_page() + HANG, outlet_page()]
    results = run_pages(pool, bodies)

    assert [r.article is not None for r in results] == [True, False, True, True]
    assert results[1].reason == "extraction took longer than 3 s (worker stopped)"
    assert pool.restarts == 1


def test_the_time_limit_counts_from_when_a_worker_begins_the_page_not_from_the_queue() -> None:
    """One worker, pages of 1.5 s each, a limit of 2.5 s: the last waits 3 s for its turn."""
    pool = ExtractionPool(1, timeout=2.5, task=crash_or_hang)
    results = run_pages(pool, [outlet_page() + SLOW] * 3)

    assert [r.reason for r in results] == [None] * 4
    assert pool.restarts == 0


KILLED_CRAWLER = """
import asyncio, sys
from pipeline.workers import ExtractionPool
from tests.pipeline.test_extraction_sites import outlet_page
pool = ExtractionPool(2)
pool.start()
asyncio.run(pool.extract(outlet_page(), "https://coast.example/a", "text/html"))
print(" ".join(str(p.pid) for p in pool._executor._processes.values()), flush=True)
sys.stdin.read()  # until killed
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_and_their_fork_server_end_when_the_crawler_is_killed() -> None:
    """SIGKILL leaves the crawler no time to stop them: they notice it is gone."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    crawler = subprocess.Popen([sys.executable, "-c", KILLED_CRAWLER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert crawler.stdout is not None
    workers = [int(pid) for pid in crawler.stdout.readline().split()]
    fork_server = parent_of(workers[0])
    crawler.kill()
    crawler.wait()
    deadline = time.monotonic() + 10
    left = [*workers, fork_server]
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if is_running(pid)]
        time.sleep(0.1)
    assert left == []


def test_the_extraction_time_limit_comes_from_the_config(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from pipeline.config import load_config
    from pipeline.crawl import CrawlOptions, crawl_settings
    from pipeline.pipelines import ExtractArticlePipeline

    path = tmp_path / "newsmon.toml"
    path.write_text(
        '[crawl]\nextraction_timeout = "45s"\n'
        '[[outlets]]\nname = "Coast"\nfeeds = ["https://coast.example/rss"]\n',
        encoding="utf-8",
    )
    settings = crawl_settings(load_config(path), "sqlite://", CrawlOptions())
    limit = settings.getfloat("NEWSMON_EXTRACT_TIMEOUT")
    crawler = get_crawler(
        settings_dict={"NEWSMON_EXTRACT_TIMEOUT": limit, "NEWSMON_EXTRACT_WORKERS": 1}
    )
    assert ExtractArticlePipeline(crawler).pool.timeout == 45.0


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc")
def test_a_worker_gives_back_the_memory_a_big_page_took(shared_corpus: Path) -> None:
    """A 5 MB page grows a worker by about 70 MB; it must not keep that for the whole crawl."""
    import gzip

    files = sorted((shared_corpus / "wcxb-dev-articles" / "html").glob("*.html.gz"))[:80]
    big = b"".join(gzip.decompress(f.read_bytes()) for f in files)[:5_000_000]
    pool = ExtractionPool(1)
    pool.start()

    async def extract(body: bytes) -> int:
        await pool.extract(body, "https://coast.example/a", "text/html")
        assert pool._executor is not None
        (worker,) = pool._executor._processes.values()
        return resident_mb(worker.pid)

    try:
        after_small = asyncio.run(extract(outlet_page()))
        after_big = asyncio.run(extract(big))
    finally:
        pool.close()
    assert after_big < after_small + 30, (after_small, after_big)
