"""What ``newsmon status`` reports: the daemon, its jobs, each outlet's last crawl, totals.

:func:`status_record` builds the ``--json`` document (its shape is documented in the README);
:func:`status_lines` renders the same record for a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pipeline.runlock import ended_here, holder_is_gone
from storage.locks import RUN_LOCK, format_age, read_lock
from storage.status import (
    OutletRun,
    database_size,
    due_counts,
    last_runs,
    open_runs,
    scheduled_jobs,
    totals,
)

_DAEMON_KEYS = (
    "state",
    "pid",
    "hostname",
    "holder",
    "since",
    "heartbeat_at",
    "heartbeat_age_seconds",
    "ttl_seconds",
)


def status_record(
    session: Session, *, database: str, outlets: Sequence[str], now: datetime
) -> dict[str, Any]:
    """The status document.

    Args:
        session: a read session on the database.
        database: the database URL to show (without password).
        outlets: the configured outlet names (stored outlets are listed too).
        now: aware UTC time that ages are measured against.
    """
    runs = last_runs(session)
    due = due_counts(session, now)
    names = list(dict.fromkeys([*outlets, *sorted(runs)]))
    return {
        "database": {"url": database, "size_bytes": database_size(session)},
        "daemon": _daemon(session, now),
        "running_crawls": [
            {
                "run_id": r.run_id,
                "started_at": _iso(r.started_at),
                "outlets": r.outlets,
                "process_gone": ended_here(r.machine, r.pid),
            }
            for r in open_runs(session)
        ],
        "jobs": [
            {"id": job.id, "next_run_time": _iso(job.next_run_time)}
            for job in scheduled_jobs(session)
        ],
        "outlets": [
            {"name": name, "due_rechecks": due.get(name, 0), "last_run": _run(runs.get(name))}
            for name in names
        ],
        "totals": totals(session),
    }


def status_lines(record: dict[str, Any], now: datetime) -> list[str]:
    """A terminal rendering of :func:`status_record`'s document."""
    lines = [_daemon_line(record["daemon"])]
    for run in record["running_crawls"]:
        outlets = ", ".join(run["outlets"]) or "?"
        since = _short(run["started_at"])
        if run.get("process_gone"):
            lines.append(
                f"  abandoned: run {run['run_id']} ({outlets}) since {since}: its process is gone"
                " (killed or crashed); the next crawl marks it failed"
            )
        else:
            lines.append(f"  crawling now: run {run['run_id']} ({outlets}) since {since}")
    lines += ["", "Jobs (next run):"]
    if not record["jobs"]:
        lines.append("  none scheduled yet (start `newsmon run`)")
    for job in record["jobs"]:
        lines.append(f"  {job['id']:<32} {_when(job['next_run_time'], now)}")
    lines += ["", "Outlets (last crawl run):"]
    for outlet in record["outlets"]:
        lines.append(_outlet_line(outlet))
    t = record["totals"]
    size = record["database"]["size_bytes"]
    lines += [
        "",
        f"Totals: {t['outlets']} outlets crawled, {t['articles']} articles, "
        f"{t['versions']} versions, {t['fetches']} fetches, {t['crawl_runs']} crawl runs",
        f"Database: {record['database']['url']}"
        + (f" ({_size(size)})" if size is not None else ""),
    ]
    return lines


def _daemon(session: Session, now: datetime) -> dict[str, Any]:
    lock = read_lock(session, RUN_LOCK)
    if lock is None:
        return dict.fromkeys(_DAEMON_KEYS) | {"state": "down"}
    state = "stale" if lock.is_stale(now) else "up"
    if state == "up" and holder_is_gone(lock):
        state = "gone"  # killed (kill -9): its heartbeat has not expired yet, but it is no more
    return {
        "state": state,
        "pid": lock.pid,
        "hostname": lock.hostname,
        "holder": lock.holder,
        "since": _iso(lock.acquired_at),
        "heartbeat_at": _iso(lock.heartbeat_at),
        "heartbeat_age_seconds": round(lock.age(now), 1),
        "ttl_seconds": lock.ttl_seconds,
    }


def _run(run: OutletRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "run_id": run.run_id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "status": run.status,
        "reason": run.reason,
        "fetched": run.fetched,
        "new_articles": run.new_articles,
        "new_versions": run.new_versions,
        "errors": run.errors,
        "last_error": run.last_error,
    }


def _daemon_line(daemon: dict[str, Any]) -> str:
    if daemon["state"] == "down":
        return "Daemon: down (no `newsmon run` holds this database)"
    age = format_age(daemon["heartbeat_age_seconds"])
    state = {
        "up": "up",
        "gone": "down (its process is gone: killed?)",
    }.get(daemon["state"], "stale (its lock expired: the daemon is gone)")
    return (
        f"Daemon: {state}: pid {daemon['pid']} on {daemon['hostname']}, "
        f"since {_short(daemon['since'])}, last heartbeat {age} ago"
    )


def _outlet_line(outlet: dict[str, Any]) -> str:
    run = outlet["last_run"]
    due = f", {outlet['due_rechecks']} due" if outlet["due_rechecks"] else ""
    if run is None:
        return f"  {outlet['name']}: never crawled{due}"
    line = (
        f"  {outlet['name']}: {_short(run['started_at'])} {run['status']}: "
        f"{run['fetched']} fetched, "
        f"{run['new_articles']} new articles, {run['new_versions']} new versions, "
        f"{run['errors']} errors{due}"
    )
    problem = run["reason"] if run["status"] == "failed" else run["last_error"]
    return line + (f"\n      last error: {problem}" if problem else "")


def _when(iso: str | None, now: datetime) -> str:
    if iso is None:
        return "paused"
    delta = (datetime.fromisoformat(iso) - now).total_seconds()
    relative = f"in {format_age(delta)}" if delta >= 0 else f"{format_age(-delta)} overdue"
    return f"{_short(iso)} ({relative})"


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def _short(iso: str | None) -> str:
    """``2026-12-01T10:00:00Z``: whole seconds for a terminal."""
    return "-" if iso is None else iso[:19] + "Z"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
