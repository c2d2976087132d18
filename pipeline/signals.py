"""newsmon's own Scrapy signals and the records they carry.

Components report what happened through signals; :class:`pipeline.extensions.CrawlRunExtension`
is the one place that turns them into database rows, in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

fetch_recorded = object()  # record=FetchRecord
# Sent by the spider, at most once a crawl, as soon as it knows a page will need extracting:
# an outlet with no stored article is crawled, or a new article URL is queued. The extraction
# pool then starts its fork server, whose preload runs beside the crawl's start (no arguments).
extraction_expected = object()


@dataclass(slots=True)
class FetchRecord:
    """One HTTP exchange (or failed attempt), ready to become a ``fetches`` row."""

    url: str
    outlet: str | None
    kind: str
    fetched_at: datetime
    status: int | None = None
    duration: float | None = None
    size: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    article_id: int | None = None
    # Set when the fetch found the article unchanged: its check times move with this record
    # (in the fetch log's batch) instead of in a write of its own.
    next_check_at: datetime | None = None

    @classmethod
    def from_exchange(
        cls, request: Request, *, response: Response | None = None, error: str | None = None
    ) -> FetchRecord:
        kind = request.meta.get("newsmon_kind")
        if kind is None:
            kind = "robots" if request.url.endswith("/robots.txt") else "page"
        record = cls(
            url=request.url,
            outlet=request.meta.get("newsmon_outlet"),
            kind=kind,
            fetched_at=datetime.now(UTC),
            duration=request.meta.get("download_latency"),
            error=error,
        )
        if response is not None:
            record.status = response.status
            record.size = len(response.body)
            record.content_type = _header(response, b"Content-Type")
            record.etag = _header(response, b"ETag")
            record.last_modified = _header(response, b"Last-Modified")
        return record

    def row(self) -> dict[str, Any]:
        """The record as a plain dict for storage. Every field holds a plain value, so no copy
        is made (``dataclasses.asdict`` deep-copies each value: 3 % of a recheck pass)."""
        return {name: getattr(self, name) for name in _FIELD_NAMES}


_FIELD_NAMES = tuple(field.name for field in fields(FetchRecord))


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def count_outlet_error(stats: StatsCollector | None, outlet: str | None, message: str) -> None:
    """One more error for ``outlet`` in this crawl, ``message`` its latest: what the crawl
    run's row and the summary show (:class:`pipeline.extensions.CrawlRunExtension`)."""
    if stats is None or not outlet:
        return
    stats.inc_value(f"newsmon/outlet/{outlet}/errors")
    stats.set_value(f"newsmon/outlet/{outlet}/last_error", message)
    # every distinct message, for the summary: a feed that is no feed must not be hidden by
    # a failed article after it
    key = f"newsmon/outlet/{outlet}/messages"
    messages: list[str] = stats.get_value(key) or []
    if message not in messages and len(messages) < MAX_OUTLET_MESSAGES:
        stats.set_value(key, [*messages, message])


MAX_OUTLET_MESSAGES = 20
