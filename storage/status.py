"""Read-only queries for ``newsmon status`` and the daemon's bookkeeping. Never commits.

The scheduler's job table (``apscheduler_jobs``) is read directly (id and next run time), so
status works whether or not a daemon is running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Float, String, column, func, inspect, select, table, text
from sqlalchemy.orm import Session

from storage.models import Article, CrawlRun, CrawlRunOutlet, Fetch, Outlet, Version

JOBS_TABLE = "apscheduler_jobs"
_JOBS = table(JOBS_TABLE, column("id", String), column("next_run_time", Float))
# The outlets a crawl run was started for, recorded in its stats by whoever created it.
PLANNED_KEY = "newsmon/planned_outlets"


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    id: str
    next_run_time: datetime | None  # None: paused


@dataclass(frozen=True, slots=True)
class OutletRun:
    """An outlet's most recent crawl run with its counts."""

    outlet: str
    run_id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    reason: str | None
    fetched: int
    new_articles: int
    new_versions: int
    errors: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OpenRun:
    """A crawl run without a finish time (running, or abandoned by a dead process)."""

    run_id: int
    started_at: datetime
    pid: int | None
    outlets: list[str]
    machine: str | None = None


@dataclass(frozen=True, slots=True)
class RunState:
    status: str
    finished: bool
    stats: dict[str, Any]


def scheduled_jobs(session: Session) -> list[ScheduledJob]:
    """Every persisted scheduler job, soonest first (empty if the daemon never ran)."""
    if not inspect(session.get_bind()).has_table(JOBS_TABLE):
        return []
    rows = session.execute(
        select(_JOBS.c.id, _JOBS.c.next_run_time).order_by(
            _JOBS.c.next_run_time.is_(None), _JOBS.c.next_run_time, _JOBS.c.id
        )
    )
    return [
        ScheduledJob(job_id, None if ts is None else datetime.fromtimestamp(ts, UTC))
        for job_id, ts in rows
    ]


def last_runs(session: Session) -> dict[str, OutletRun]:
    """Per outlet name, the latest crawl run that recorded counts for it."""
    latest = (
        select(CrawlRunOutlet.outlet_id, func.max(CrawlRunOutlet.run_id).label("run_id"))
        .group_by(CrawlRunOutlet.outlet_id)
        .subquery()
    )
    rows = session.execute(
        select(Outlet.name, CrawlRun, CrawlRunOutlet)
        .join(latest, latest.c.outlet_id == Outlet.id)
        .join(CrawlRun, CrawlRun.id == latest.c.run_id)
        .join(
            CrawlRunOutlet,
            (CrawlRunOutlet.run_id == latest.c.run_id)
            & (CrawlRunOutlet.outlet_id == latest.c.outlet_id),
        )
        .order_by(Outlet.name)
    )
    return {
        name: OutletRun(
            outlet=name,
            run_id=run.id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            reason=run.reason,
            fetched=counts.fetched,
            new_articles=counts.new_articles,
            new_versions=counts.new_versions,
            errors=counts.errors,
            last_error=counts.last_error,
        )
        for name, run, counts in rows
    }


def open_runs(session: Session) -> list[OpenRun]:
    """Runs not finished yet, oldest first; their outlets come from the planned list in stats."""
    runs = session.scalars(
        select(CrawlRun).where(CrawlRun.finished_at.is_(None)).order_by(CrawlRun.id)
    )
    return [
        OpenRun(
            run.id,
            run.started_at,
            run.pid,
            list((run.stats or {}).get(PLANNED_KEY, [])),
            run.machine,
        )
        for run in runs
    ]


def run_state(session: Session, run_id: int) -> RunState | None:
    run = session.get(CrawlRun, run_id, populate_existing=True)
    if run is None:
        return None
    return RunState(run.status, run.finished_at is not None, dict(run.stats or {}))


def due_counts(session: Session, now: datetime) -> dict[str, int]:
    """Per outlet name, how many stored articles are due for a recheck at ``now``."""
    rows = session.execute(
        select(Outlet.name, func.count(Article.id))
        .join(Article, Article.outlet_id == Outlet.id)
        .where(Article.next_check_at.is_not(None), Article.next_check_at <= now)
        .group_by(Outlet.name)
    )
    return {name: int(count) for name, count in rows}


def totals(session: Session) -> dict[str, int]:
    """Row counts: outlets, articles, versions, fetches, crawl runs."""
    counted = {
        "outlets": Outlet.id,
        "articles": Article.id,
        "versions": Version.id,
        "fetches": Fetch.id,
        "crawl_runs": CrawlRun.id,
    }
    return {
        name: int(session.scalar(select(func.count(key))) or 0) for name, key in counted.items()
    }


def database_size(session: Session) -> int | None:
    """Bytes on disk: the SQLite file plus its WAL, or ``pg_database_size``; None if unknown."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    if bind.dialect.name != "sqlite":
        return None
    database = bind.engine.url.database
    if not database or database == ":memory:":
        return None
    size = 0
    for suffix in ("", "-wal"):
        path = Path(database + suffix)
        if path.exists():
            size += path.stat().st_size
    return size
