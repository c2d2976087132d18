"""The crawl's own Scrapy extensions: the fetch log's records, the polite throttle."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from scrapy.core.downloader import Slot
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from pipeline.extensions import PoliteThrottle, _jsonable
from pipeline.signals import MAX_OUTLET_MESSAGES, FetchRecord, count_outlet_error


def test_a_fetch_record_row_holds_every_field() -> None:
    record = FetchRecord(
        url="http://127.0.0.2/a", outlet="A", kind="article", fetched_at=datetime.now(UTC),
        status=200, size=10, etag='"x"', article_id=3, next_check_at=datetime.now(UTC),
    )  # fmt: skip
    assert record.row() == asdict(record)


@pytest.fixture
def throttle() -> PoliteThrottle:
    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True, "DOWNLOAD_DELAY": 0.0})
    throttle = PoliteThrottle.from_crawler(crawler)
    throttle.mindelay, throttle.maxdelay = throttle._min_delay(), throttle._max_delay()  # as opened
    return throttle


@pytest.mark.parametrize(("status", "slows_down_only"), [(200, False), (304, False), (500, True)])
def test_a_304_lets_the_delay_shrink_like_a_200_and_an_error_does_not(
    throttle: PoliteThrottle, status: int, slows_down_only: bool
) -> None:
    """A recheck pass is mostly 304s: they are real answers and must let the outlet's delay
    come down, while an error page's short latency must not."""
    slot = Slot(concurrency=2, delay=2.0, jitter=0)
    response = Response("http://127.0.0.2/a", status=status)
    throttle._adjust_delay(slot, 0.02, response)
    assert (slot.delay == 2.0) is slows_down_only
    assert slot.delay <= 2.0


def test_every_distinct_outlet_error_is_kept_for_the_summary_up_to_a_cap() -> None:
    stats = get_crawler().stats
    for n in [1, 2, 1, *range(3, 40)]:
        count_outlet_error(stats, "A", f"https://a.example/listing-{n}: not a feed")
    messages = stats.get_value("newsmon/outlet/A/messages")
    assert messages[:3] == [f"https://a.example/listing-{n}: not a feed" for n in (1, 2, 3)]
    assert len(messages) == MAX_OUTLET_MESSAGES
    assert stats.get_value("newsmon/outlet/A/errors") == 40  # each counted, repeats too
    assert _jsonable(messages) == messages  # stored with the run's stats as a list


def test_a_runs_outlet_messages_are_read_back_from_its_stats(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade_database
    from storage.models import CrawlRun
    from storage.runs import outlet_messages

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    stats = {
        "newsmon/outlet/A/messages": ["x: not a feed", "y: not a sitemap"],
        "newsmon/outlet/A/errors": 2,
        "newsmon/outlet/B/last_error": "z",
    }
    with make_session_factory(engine).begin() as session:
        run = CrawlRun(started_at=datetime.now(UTC), status="finished", stats=stats)
        session.add(run)
        session.flush()
        run_id = run.id
    with make_session_factory(engine)() as session:
        assert outlet_messages(session, run_id) == {"A": ["x: not a feed", "y: not a sitemap"]}
    engine.dispose()
