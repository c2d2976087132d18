"""The crawl's own Scrapy extensions: the fetch log's records, the polite throttle."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from scrapy.core.downloader import Slot
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from pipeline.extensions import PoliteThrottle
from pipeline.signals import FetchRecord


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
