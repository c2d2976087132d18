"""Storing pipeline: what storing a crawl's pages sets going besides the rows themselves."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

import pipeline.pipelines
from pipeline.items import FetchedPage
from pipeline.pipelines import ExtractArticlePipeline, StoreArticlePipeline
from pipeline.writer import BatchWriter, register_writer
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from tests.pipeline.test_extraction_sites import outlet_page


def test_the_first_stored_article_starts_loading_post_processing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Post-processing will have work after this crawl: its imports (numpy, scipy.sparse) run
    while the workers extract, once, and not at the end of the crawl on one core."""
    preloads: list[int] = []
    monkeypatch.setattr(pipeline.pipelines, "preload_in_background", lambda: preloads.append(1))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    writer = BatchWriter(make_session_factory(engine), max_wait=0.0)
    writer.start()
    crawler = get_crawler(settings_dict={"NEWSMON_EXTRACT_WORKERS": 0, "NEWSMON_SCHEDULE": []})
    register_writer(crawler, writer)
    extraction, storing = ExtractArticlePipeline(crawler), StoreArticlePipeline(crawler)

    def page(path: str) -> FetchedPage:
        address = f"https://coast.example/{path}"
        return FetchedPage("Coast", address, address, 200, outlet_page(), datetime.now(UTC),
                           content_type="text/html")  # fmt: skip

    async def store(item: FetchedPage) -> None:
        await storing.process_item(await extraction.process_item(item))

    try:
        asyncio.run(store(page("ferries")))
        assert preloads == [1]
        for path in ("ferries-again", "harbour"):
            asyncio.run(store(page(path)))
        assert preloads == [1]
    finally:
        writer.close()
        engine.dispose()


def test_post_processing_modules_load_in_a_thread_of_their_own() -> None:
    from tests.test_layers import loaded_after

    statement = "from pipeline.postprocess import preload_in_background as p; p().join()"
    names = ("pipeline.autostories", "pipeline.syndication", "scipy.sparse")
    assert loaded_after(statement, names) == sorted(names)


def test_the_preload_also_lays_out_the_lsh_bands() -> None:
    statement = (
        "from pipeline.postprocess import preload_in_background as p; p().join(); "
        "from pipeline.dedupe import band_layout; print(band_layout.cache_info().currsize)"
    )
    done = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "1"


def test_a_page_logged_by_scrapy_is_one_short_line_not_its_html() -> None:
    """Scrapy logs a dropped item's repr: a 5 MB page must not land in the log."""
    page = FetchedPage("Coast", "https://coast.example/a", "https://coast.example/a", 200,
                       b"<html>" + b"x" * 5_000_000, datetime.now(UTC))  # fmt: skip
    assert repr(page) == "<FetchedPage 200 https://coast.example/a (5000006 bytes) of Coast>"
