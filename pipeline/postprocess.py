"""The incremental job after every crawl: duplicates, syndication groups, stories.

Only what is new since the last run is processed: articles with a version newer than the job's
high-water mark (``job_marks``), in batches of one transaction each, so an interrupted run
resumes where it stopped. Signatures, LSH band keys, term vectors and clusters are persisted,
so a batch costs indexed look-ups around its own articles, whatever the size of the archive.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pipeline.config import Config, StoryConfig
from pipeline.features import Features, digest
from pipeline.stories import StoryRule, match_articles, rematch_story, sync_configured
from storage.db import make_engine, make_session_factory
from storage.dedupe_store import (
    ArticleRow,
    article_rows,
    changed_since,
    get_mark,
    lock_mark,
    note_on_run,
    set_mark,
)
from storage.pending_features import drop_pending_features, pending_features

logger = logging.getLogger(__name__)

MARK = "postprocess"
# Tuned on bench/dedupe.py (see bench/README.md); the [dedupe] defaults of the config.
SYNDICATION_THRESHOLD = 0.5
STORY_THRESHOLD = 0.25


# What the job imports when it has work: numpy and scipy.sparse (about 0.2 s).
JOB_MODULES = ("pipeline.autostories", "pipeline.syndication")


def preload_in_background() -> threading.Thread:
    """Import the job's modules in a thread of their own, now.

    The job runs after the crawl, on one core while the others idle: a crawl that stores new
    versions (so the job will have work) calls this while its workers extract, and the job
    then starts without importing.
    """
    thread = threading.Thread(target=_preload, name="newsmon-postprocess-preload", daemon=True)
    thread.start()
    return thread


def _preload() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)
    from pipeline.dedupe import BandIndex

    BandIndex(SYNDICATION_THRESHOLD)  # its band layout (cached) takes about 50 ms of numpy


@dataclass(frozen=True, slots=True)
class PostprocessOptions:
    """Thresholds and stories, from ``[dedupe]`` and ``[[stories]]``."""

    syndication_threshold: float = SYNDICATION_THRESHOLD
    story_threshold: float = STORY_THRESHOLD
    story_window: timedelta = timedelta(days=3)
    stories: tuple[StoryConfig, ...] = ()
    batch: int = 2000  # versions per transaction

    @classmethod
    def from_config(cls, config: Config) -> PostprocessOptions:
        dedupe = config.dedupe
        return cls(
            syndication_threshold=dedupe.syndication_threshold,
            story_threshold=dedupe.story_threshold,
            story_window=dedupe.story_window,
            stories=config.stories,
        )


@dataclass(slots=True)
class PostprocessReport:
    """What one run did (also stored with the job's mark)."""

    articles: int = 0
    merged: int = 0
    links: int = 0
    repointed: int = 0
    stories_refreshed: int = 0
    stories_rematched: int = 0
    seconds: float = 0.0
    merges: list[tuple[int, int]] = field(default_factory=list)


def after_crawl(config: Config, database_url: str) -> PostprocessReport:
    """Run the incremental job on ``database_url`` (the crawl and the scheduler call this)."""
    engine = make_engine(database_url, immediate=True)
    try:
        return run_postprocess(make_session_factory(engine), PostprocessOptions.from_config(config))
    finally:
        engine.dispose()


def after_crawl_run(config: Config, database_url: str, run_id: int | None) -> None:
    """:func:`after_crawl` for a crawl that just ended: a failure is logged and recorded with
    the crawl run, never raised (the articles are stored; the next run catches up)."""
    outcome: dict[str, Any]
    try:
        report = after_crawl(config, database_url)
        outcome = {k: v for k, v in asdict(report).items() if k != "merges"}
    except Exception as exc:
        logger.error("post-processing failed: %s", exc, exc_info=True)
        outcome = {"error": f"{type(exc).__name__}: {exc}"}
    if run_id is None:
        return
    engine = make_engine(database_url, immediate=True)
    try:
        with make_session_factory(engine).begin() as session:
            note_on_run(session, run_id, "postprocess", outcome)
    except Exception as exc:
        logger.error("could not record post-processing on run %s: %s", run_id, exc)
    finally:
        engine.dispose()


def run_postprocess(
    sessions: sessionmaker[Session], options: PostprocessOptions
) -> PostprocessReport:
    """Process everything new since the last run; returns what was done."""
    started = time.perf_counter()
    report = PostprocessReport()
    with sessions.begin() as session:
        rules, changed = sync_configured(session, options.stories)
        if get_mark(session, MARK) > 0:  # on a first run every article is matched below anyway
            for rule in changed:
                rematch_story(session, rule)
                report.stories_rematched += 1
    while True:
        with sessions.begin() as session:
            lock_mark(session, MARK)
            mark = get_mark(session, MARK)
            ids, last = changed_since(session, mark, options.batch)
            if not ids:
                break
            _process(session, ids, rules, options, report)
            report.seconds = round(time.perf_counter() - started, 3)
            info = {k: v for k, v in asdict(report).items() if k != "merges"}
            set_mark(session, MARK, last, {**info, "at": datetime.now(UTC).isoformat()})
        logger.info("post-processing: %d articles so far (mark %d)", report.articles, last)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _process(
    session: Session,
    ids: list[int],
    rules: list[StoryRule],
    options: PostprocessOptions,
    report: PostprocessReport,
) -> None:
    # numpy and scipy.sparse take about half a second to import: only when there is work.
    from pipeline.autostories import refresh_stories, touched_by, update_clusters
    from pipeline.syndication import process_batch

    rows = article_rows(session, ids)
    if not rows:
        return
    ready = stored_features(session, rows)  # computed by the crawl as it stored the texts
    before = touched_by(session, set(rows))  # clusters of rows a merge may delete
    result = process_batch(
        session,
        rows,
        options.syndication_threshold,
        datetime.now(UTC),
        {a: f.signature for a, f in ready.items()},
    )
    # a merge may have changed a kept row (its title): features only for rows as they were
    terms = {a: f.terms for a, f in ready.items() if result.rows.get(a) == rows[a]}
    update = update_clusters(
        session, result.rows, options.story_threshold, options.story_window, terms
    )
    touched = update.touched | before | touched_by(session, result.regrouped)
    report.stories_refreshed += refresh_stories(session, touched, update.clustering.merged)
    match_articles(session, rules, set(result.rows) | result.regrouped)
    report.articles += len(result.rows)
    report.merged += len(result.merged)
    report.merges += result.merged
    report.links += result.links
    report.repointed += result.repointed
    drop_pending_features(session, ids)


def stored_features(session: Session, rows: dict[int, ArticleRow]) -> dict[int, Features]:
    """The pending features of ``rows`` that were computed from their current state."""
    from pipeline.minhash import Signature
    from pipeline.terms import TermCounts

    found: dict[int, Features] = {}
    for article_id, stored in pending_features(session, rows).items():
        row = rows[article_id]
        if stored.digest != digest(row.title, row.text, row.language):
            continue
        found[article_id] = Features(
            Signature.from_bytes(stored.text_hash, stored.minhash, stored.shingles),
            TermCounts(dict(stored.terms["counts"]), frozenset(stored.terms["names"])),
        )
    return found
