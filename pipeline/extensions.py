"""Signal-driven bookkeeping: crawl-run rows, fetch rows, progress lines, polite throttling."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from twisted.internet import task

from pipeline.runlock import this_machine
from pipeline.signals import FetchRecord, fetch_recorded
from pipeline.writer import BatchWriter, register_writer
from storage.db import make_engine, make_session_factory
from storage.listings import ListingState, save_listing_states
from storage.runs import OutletCounts, add_fetches, finish_run, start_run

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

COUNT_KEYS = ("discovered", "fetched", "new_articles", "new_versions", "unchanged", "errors")


class CrawlRunExtension:
    """Owns the crawl-run row: creates (or adopts) it, buffers fetch rows, closes it with counts."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.engine = make_engine(crawler.settings.get("NEWSMON_DATABASE_URL"), immediate=True)
        self.sessions = make_session_factory(self.engine)
        self.batch_size = crawler.settings.getint("NEWSMON_FETCH_LOG_BATCH")
        self.buffer: list[FetchRecord] = []
        run_id = crawler.settings.get("NEWSMON_RUN_ID")
        if run_id is None:
            with self.sessions.begin() as session:
                run_id = start_run(session, pid=os.getpid(), machine=this_machine()).id
        self.run_id = int(run_id)
        assert crawler.stats is not None
        crawler.stats.set_value("newsmon/run_id", self.run_id)
        self.writer = BatchWriter(self.sessions)
        self.writer.start()
        register_writer(crawler, self.writer)
        self.flusher = task.LoopingCall(self.flush)
        crawler.signals.connect(self.record, signal=fetch_recorded)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunExtension:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        self.flusher.start(2.0, now=False)

    def record(self, record: FetchRecord) -> None:
        if record.outlet is None:  # robots.txt and redirect hops carry no outlet in their meta
            record.outlet = self._outlet_of_url(record.url)
        self.buffer.append(record)
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def _outlet_of_url(self, url: str) -> str | None:
        host = urlsplit(url).hostname
        for outlet in getattr(self.crawler.spider, "outlets", {}).values():
            if outlet.owns_host(host):
                return str(outlet.name)
        return None

    def flush(self) -> None:
        if not self.buffer:
            return
        rows, self.buffer = [r.row() for r in self.buffer], []
        run_id = self.run_id
        self.writer.submit(lambda session: add_fetches(session, run_id, rows))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.flusher.running:
            self.flusher.stop()
        self.flush()
        if reason == "finished" and hasattr(spider, "complete_listings"):
            self._save_listings(spider.complete_listings())
        outlets = list(getattr(spider, "outlets", {}))
        counts = outlet_counts(self.crawler, outlets)
        status = "finished" if reason == "finished" else "interrupted"
        assert self.crawler.stats is not None
        stats = {k: _jsonable(v) for k, v in self.crawler.stats.get_stats().items()}
        self.writer.close()  # everything queued is written before the run is closed
        with self.sessions.begin() as session:
            finish_run(
                session,
                self.run_id,
                status=status,
                counts=counts,
                stats=stats,
                reason=None if reason == "finished" else reason,
            )
        self.engine.dispose()

    def _save_listings(self, complete: dict[str, list[ListingState]]) -> None:
        at = datetime.now(UTC)

        def save(session: Session) -> None:
            for outlet, states in complete.items():
                save_listing_states(session, outlet, states, at)

        self.writer.submit(save)


def outlet_counts(crawler: Crawler, outlets: list[str]) -> dict[str, OutletCounts]:
    """Per-outlet counters gathered from the stats collector under ``newsmon/outlet/<name>/``."""
    assert crawler.stats is not None
    counts: dict[str, OutletCounts] = {}
    for name in outlets:
        prefix = f"newsmon/outlet/{name}/"
        values = {key: int(crawler.stats.get_value(prefix + key, 0)) for key in COUNT_KEYS}
        counts[name] = OutletCounts(
            **values, last_error=crawler.stats.get_value(prefix + "last_error")
        )
    return counts


def _jsonable(value: Any) -> Any:
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return str(value)


class ProgressExtension:
    """A short progress line on stderr every ``NEWSMON_PROGRESS_INTERVAL`` seconds."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.loop = task.LoopingCall(self.report)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        interval = crawler.settings.getfloat("NEWSMON_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        return cls(crawler, interval)

    def spider_opened(self, spider: Spider) -> None:
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop.running:
            self.loop.stop()

    def report(self) -> None:
        spider = self.crawler.spider
        totals = dict.fromkeys(COUNT_KEYS, 0)
        for count in outlet_counts(self.crawler, list(getattr(spider, "outlets", {}))).values():
            for key in COUNT_KEYS:
                totals[key] += getattr(count, key)
        assert self.crawler.engine is not None
        pending = len(self.crawler.engine.downloader.active)
        sys.stderr.write(
            f"  … {totals['fetched']} articles fetched of {totals['discovered']} found, "
            f"{totals['new_articles']} new, {totals['errors']} errors, {pending} in flight\n"
        )
        sys.stderr.flush()


class PoliteThrottle(AutoThrottle):
    """AutoThrottle that never goes below an outlet's configured delay or robots Crawl-delay.

    Stock AutoThrottle only knows the global ``DOWNLOAD_DELAY`` as its floor, so it would
    speed up past a per-outlet ``delay`` or a ``Crawl-delay`` from robots.txt.
    """

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        """As AutoThrottle, but a 304 counts like a 200: it is a real answer, not an error page,
        and a recheck pass of 304s must be able to speed up."""
        if response.status == 304:
            response = cast("Response", _ANSWERED)
        super()._adjust_delay(slot, latency, response)

    def _response_downloaded(
        self, response: Response, request: Request, spider: Spider | None = None
    ) -> None:
        super()._response_downloaded(response, request, spider)  # type: ignore[arg-type]
        engine = self.crawler.engine
        key = request.meta.get("download_slot")
        if engine is None or key is None:
            return
        slot = engine.downloader.slots.get(key)
        floor = float(engine.downloader.per_slot_settings.get(key, {}).get("delay", 0.0))
        if slot is not None and slot.delay < floor:
            slot.delay = floor


class _Answered:
    """A 304 as AutoThrottle's delay policy sees it, which reads a response's status only
    (tests/pipeline/test_extensions.py runs the policy): a copy of the response with
    ``response.replace(status=200)`` took 3 % of a recheck pass's reactor time."""

    status = 200


_ANSWERED = _Answered()
