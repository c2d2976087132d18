"""Item pipelines: extract each fetched page, then store it.

Thin by design: extraction lives in ``pipeline.extraction``, persistence in ``storage``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from pipeline.history import (
    Outcome,
    record_failed_extraction,
    record_gone,
    record_page,
    record_pages,
    record_unchanged_body,
    refilter_first_texts,
)
from pipeline.items import Article, FetchedPage
from pipeline.postprocess import preload_in_background
from pipeline.repeated_lines import RepeatedLines
from pipeline.signals import (
    FetchRecord,
    count_outlet_error,
    extraction_expected,
    fetch_recorded,
)
from pipeline.urls import canonicalize_url, host_of
from pipeline.versions import content_hash, next_check
from pipeline.workers import EXTRACTION_TIMEOUT, ExtractionPool, default_workers
from pipeline.writer import Bulk, writer_for
from storage.boilerplate import boilerplate_windows, save_boilerplate_windows
from storage.repository import ArticleSnapshot

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


class ArticleNotExtracted(DropItem):
    """The page held no usable article text."""


class ExtractArticlePipeline:
    """Turn a :class:`FetchedPage` into an :class:`Article` in the extraction process pool,
    or record why it could not."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        workers = crawler.settings.getint("NEWSMON_EXTRACT_WORKERS", -1)
        self.pool = ExtractionPool(
            default_workers() if workers < 0 else workers,
            timeout=crawler.settings.getfloat("NEWSMON_EXTRACT_TIMEOUT", EXTRACTION_TIMEOUT),
        )
        self.repeated: RepeatedLines | None = None
        crawler.signals.connect(self.pool.warm, signal=extraction_expected)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractArticlePipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        self.pool.start()
        self.opened_at = datetime.now(UTC)
        if self.crawler.settings.getbool("NEWSMON_REPEATED_LINES", True):
            outlets = list(getattr(self.crawler.spider, "outlets", {}))
            job = writer_for(self.crawler).submit(
                lambda s: boilerplate_windows(s, outlets), urgent=True
            )
            self.repeated = RepeatedLines(job.result())

    def close_spider(self, spider: Spider | None = None) -> None:
        self.pool.close()
        if self.repeated is not None and (windows := self.repeated.changed()):
            at = datetime.now(UTC)
            writer = writer_for(self.crawler)
            writer.submit(lambda s: save_boilerplate_windows(s, windows, at))
            if grown := self.repeated.grown():  # after every page's own write (one queue)
                since = self.opened_at
                writer.submit(lambda s: _log_refiltered(refilter_first_texts(s, grown, since)))

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, FetchedPage) or item.status != 200 or item.gone:
            return item  # 304/404/410 of a recheck, or a page saying it is gone: no article
        item.raw_hash = hashlib.sha256(item.body).hexdigest()
        if item.known_raw_hash and item.known_raw_hash == item.raw_hash:
            item.raw_unchanged = True  # byte-identical page: extraction would find the same
            return item
        outlets = getattr(self.crawler.spider, "outlets", {})
        rules = outlets[item.outlet].extract if item.outlet in outlets else None
        repeated = self.repeated.rule(item.outlet) if self.repeated else None
        new = item.article_id is None
        learn = self.repeated is not None and new  # new articles teach
        # A new article's text is always stored, so its features are always used; a recheck's
        # changed bytes are mostly the same text (ads, dates), and its few real changes are
        # left to post-processing to sign.
        result = await self.pool.extract(
            item.body, item.url, item.content_type, rules, repeated, learn, features=new
        )
        if self.repeated is not None and result.line_keys is not None:
            self.repeated.learn(item.outlet, result.line_keys)
        item.article = result.article
        item.repeated_lines = repeated
        item.features = result.features
        if result.article is None:
            item.extraction_error = f"no article: {result.reason}"
            if item.article_id is None:
                _report_page(self.crawler, item, error=item.extraction_error)
                _count_error(self.crawler, item.outlet, f"{item.url}: {result.reason}")
                raise ArticleNotExtracted(f"{item.url}: {result.reason}")
        return item


def _log_refiltered(count: int) -> None:
    if count:
        logger.info("repeated lines learned during the crawl removed from %d new texts", count)


class StoreArticlePipeline:
    """Write each article with its URLs, version and search entry atomically.

    Writes go through the crawl's :class:`~pipeline.writer.BatchWriter` thread: many items per
    transaction, each in its own savepoint, never in the reactor thread.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.schedule = [
            (timedelta(seconds=age), timedelta(seconds=every))
            for age, every in crawler.settings.getlist("NEWSMON_SCHEDULE")
        ]
        self.preloading = False
        # Pages of URLs not known before the crawl are most likely new articles: stored together
        self.new_pages: Bulk[FetchedPage, Outcome] = Bulk(
            many=lambda session, items: record_pages(
                session,
                [self._snapshot(item) for item in items],
                self.schedule,
                [item.repeated_lines for item in items],
                [item.features for item in items],
            ),
            one=lambda session, item: record_page(
                session, self._snapshot(item), self.schedule, item.repeated_lines, item.features
            ),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreArticlePipeline:
        return cls(crawler)

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        if self._unchanged_recheck(item):
            return item
        writer = writer_for(self.crawler)
        if item.article_id is None and item.article is not None:
            outcome = await writer.run_bulk(self.new_pages, item)
        else:
            outcome = await writer.run(lambda session: self._record(session, item))
        counter = _COUNTERS.get(outcome.kind)
        if counter:
            _count(self.crawler, item.outlet, counter)
        if outcome.kind in ("new-article", "new-version") and not self.preloading:
            self.preloading = True  # post-processing will have work after this crawl
            preload_in_background()
        error = None
        if outcome.kind == "rejected":
            error = f"not stored: {outcome.reason}"
            _count_error(self.crawler, item.outlet, f"{item.url}: {outcome.reason}")
        _report_page(self.crawler, item, article_id=outcome.article_id, error=error)
        return item

    def _unchanged_recheck(self, item: FetchedPage) -> bool:
        """A 304 or a byte-identical body of a live stored article: most rechecks. Its check
        times are written with its fetch-log row, in that batch, not in a write of its own."""
        unchanged = item.status == 304 or item.raw_unchanged
        live = not item.known_removed and item.known_since is not None
        if item.article_id is None or not unchanged or not live:
            return False
        kind = "not-modified" if item.status == 304 else "unchanged"
        _count(self.crawler, item.outlet, _COUNTERS[kind])
        next_at = next_check(self.schedule, item.fetched_at, item.known_since)
        _report_page(self.crawler, item, article_id=item.article_id, next_check_at=next_at)
        return True

    def _record(self, session: Session, item: FetchedPage) -> Outcome:
        at = item.fetched_at
        if item.article_id is not None:
            if item.status in (404, 410) or item.gone:
                return record_gone(session, item.article_id, at, item.status, item.gone)
            if item.status == 304 or item.raw_unchanged:
                return record_unchanged_body(
                    session, item.article_id, at, self.schedule, not_modified=item.status == 304
                )
            if item.article is None:
                reason = item.extraction_error or "no article"
                record_failed_extraction(session, item.article_id, at, reason)
                return Outcome("rejected", item.article_id, reason=reason)
        return record_page(
            session, self._snapshot(item), self.schedule, item.repeated_lines, item.features
        )

    def _snapshot(self, page: FetchedPage) -> ArticleSnapshot:
        assert page.article is not None
        params = tuple(self.crawler.settings.getlist("NEWSMON_TRACKING_PARAMS"))
        return snapshot_of(page, page.article, self._domains(page), params)

    def _domains(self, page: FetchedPage) -> tuple[str, ...]:
        """The outlet's domains, inside which a page's declared canonical URL is trusted."""
        outlets = getattr(self.crawler.spider, "outlets", {})
        if page.outlet in outlets:
            return tuple(outlets[page.outlet].domains)
        return (host_of(page.url),)


def snapshot_of(
    page: FetchedPage,
    article: Article,
    domains: tuple[str, ...],
    tracking_params: tuple[str, ...] = (),
) -> ArticleSnapshot:
    """The storage view of an extracted page; the page's own canonical is trusted in-domain only."""
    urls = [
        canonicalize_url(u, tracking_params)
        for u in (page.url, page.requested_url, *page.redirect_urls)
    ]
    declared = article.canonical_url
    canonical = urls[0]
    if declared and _in_domains(declared, domains):
        canonical = canonicalize_url(declared, tracking_params)
    aliases = [page.url, page.requested_url, *page.redirect_urls, *page.listed_urls, *urls]
    return ArticleSnapshot(
        outlet=page.outlet,
        url=canonical,
        aliases=list(dict.fromkeys(u for u in aliases if u and u != canonical)),
        title=article.title,
        text=article.text,
        authors=list(article.authors),
        content_hash=content_hash(article.title, article.text, article.authors),
        fetched_at=page.fetched_at,
        published_at=article.published_at or page.listed_published_at,
        modified_at=article.modified_at,
        language=article.language,
        site_name=article.site_name,
        description=article.description,
        raw_html=page.body,
        raw_content_type=page.content_type,
        etag=page.etag,
        last_modified=page.last_modified,
        raw_hash=page.raw_hash or hashlib.sha256(page.body).hexdigest(),
    )


def _in_domains(url: str, domains: tuple[str, ...]) -> bool:
    host = host_of(url)
    return bool(host) and any(host == d or host.endswith("." + d) for d in domains if d)


def _report_page(
    crawler: Crawler,
    page: FetchedPage,
    *,
    article_id: int | None = None,
    error: str | None = None,
    next_check_at: datetime | None = None,
) -> None:
    record = FetchRecord(
        url=page.url,
        outlet=page.outlet,
        kind="article",
        fetched_at=page.fetched_at,
        status=page.status,
        duration=page.duration,
        size=len(page.body),
        content_type=page.content_type,
        etag=page.etag,
        last_modified=page.last_modified,
        error=error,
        article_id=article_id,
        next_check_at=next_check_at,
    )
    crawler.signals.send_catch_log(signal=fetch_recorded, record=record)


_COUNTERS = {
    "new-article": "new_articles",
    "new-version": "new_versions",
    "unchanged": "unchanged",
    "not-modified": "unchanged",
    "flip-flop": "unchanged",
    "removed": "removed",
}


def _count_error(crawler: Crawler, outlet: str, message: str) -> None:
    count_outlet_error(crawler.stats, outlet, message)


def _count(crawler: Crawler, outlet: str, key: str) -> None:
    assert crawler.stats is not None
    crawler.stats.inc_value(f"newsmon/outlet/{outlet}/{key}")
