"""The scheduler of ``newsmon run`` (APScheduler 3): jobs built from the config, persisted in the
database (``apscheduler_jobs``), and the module-level functions they point at.

Job ids are stable (``poll:<outlet>``, ``recheck``, ``maintenance``), so a restart finds its jobs
again and keeps their next run times; a job missed during downtime runs once (coalesced) if it
is late by less than ``[run] misfire_grace``. Jobs are pickled references to the functions at the
bottom of this module with plain arguments; they do their work through the active
:class:`~pipeline.supervisor.Supervisor`. Never start two schedulers on one job store: the daemon
holds the database's daemon lock first.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config import Config
from pipeline.logs import job_logger
from storage.db import make_engine
from storage.status import JOBS_TABLE

if TYPE_CHECKING:
    from pipeline.supervisor import Supervisor

logger = logging.getLogger(__name__)

POLL_PREFIX = "poll:"
RECHECK_JOB = "recheck"
MAINTENANCE_JOB = "maintenance"
MAX_WORKERS = 8  # jobs running at once (each crawl job waits for its child process)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job as the config wants it."""

    id: str
    name: str
    func: Callable[..., None]
    args: tuple[str, ...]
    interval: float  # seconds
    jitter: float  # seconds added at random to each run time
    first_run_in: float  # seconds from now, for a job that is not scheduled yet


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [
            f"{label} {', '.join(ids)}"
            for label, ids in (
                ("added", self.added),
                ("rescheduled", self.rescheduled),
                ("removed", self.removed),
            )
            if ids
        ]
        parts.append(f"{len(self.kept)} kept their next run")
        return "; ".join(parts)


def poll_job_id(outlet: str) -> str:
    return POLL_PREFIX + outlet


def job_specs(config: Config, database_label: str) -> list[JobSpec]:
    """A poll job per outlet, the recheck job and the maintenance job.

    Args:
        config: the accepted configuration.
        database_label: the database URL without its password (stored in the job table).
    """
    label = str(config.path)
    jitter = config.run.jitter.total_seconds()
    specs = []
    for outlet in config.outlets:
        interval = max(1.0, (outlet.interval or config.crawl.interval).total_seconds())
        spread = min(jitter, interval / 2)  # never more than half the interval
        specs.append(
            JobSpec(
                id=poll_job_id(outlet.name),
                name=f"poll {outlet.name}",
                func=poll_outlet,
                args=(label, database_label, outlet.name),
                interval=interval,
                jitter=spread,
                first_run_in=random.uniform(0, spread),
            )
        )
    for job_id, name, func, every in (
        (RECHECK_JOB, "recheck due articles", recheck_due, config.run.recheck_interval),
        (MAINTENANCE_JOB, "maintenance", maintain_database, config.run.maintenance_interval),
    ):
        interval = max(1.0, every.total_seconds())
        specs.append(JobSpec(job_id, name, func, (label, database_label), interval, 0.0, interval))
    return specs


class _BlockingScheduler(BlockingScheduler):  # type: ignore[misc]  # APScheduler is untyped
    """No job processing once shut down.

    APScheduler 3's loop runs one more round after ``shutdown()`` wakes it: that round submits
    due jobs to the stopped executors (logging errors) and moves their next run times on,
    although they never ran, so a restart would not catch them up.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


class JobSchedule:
    """A :class:`BlockingScheduler` on the database's job store, and how its jobs are kept."""

    def __init__(self, database_url: str) -> None:
        # immediate: a job-store update (read, then write) waits for a crawl's lock, never fails
        engine = make_engine(database_url, immediate=True)
        self.store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        self.scheduler = _BlockingScheduler(
            jobstores={"default": self.store},
            executors={"default": ThreadPoolExecutor(MAX_WORKERS)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(_log_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    @property
    def running(self) -> bool:
        return bool(self.scheduler.state != STATE_STOPPED)

    def sync(self, specs: list[JobSpec], misfire_grace: float) -> SyncReport:
        """Make the stored jobs match ``specs``; unchanged jobs keep their next run time."""
        now = datetime.now(UTC)
        existing = self._existing()
        report = SyncReport()
        wanted = {spec.id for spec in specs}
        for job_id in sorted(set(existing) - wanted):
            self._remove(job_id)
            report.removed.append(job_id)
        for spec in specs:
            old = existing.get(spec.id)
            next_run = next_run_time(spec, old, now)
            self.scheduler.add_job(
                spec.func,
                trigger=IntervalTrigger(
                    seconds=spec.interval, jitter=spec.jitter or None, timezone=UTC
                ),
                args=spec.args,
                id=spec.id,
                name=spec.name,
                replace_existing=True,
                misfire_grace_time=max(1, int(misfire_grace)),
                coalesce=True,
                max_instances=1,
                next_run_time=next_run,
            )
            if old is None:
                report.added.append(spec.id)
            elif same_schedule(spec, old):
                report.kept.append(spec.id)
            else:
                report.rescheduled.append(spec.id)
        return report

    def delay(self, job_id: str, until: datetime) -> None:
        """Move a job's next run to ``until`` unless it is already later."""
        job = self.scheduler.get_job(job_id)
        if job is not None and (job.next_run_time is None or job.next_run_time < until):
            self.scheduler.modify_job(job_id, next_run_time=until)

    def _existing(self) -> dict[str, Job]:
        if self.running:
            return {job.id: job for job in self.scheduler.get_jobs()}
        self.store.start(self.scheduler, "default")  # creates the table; start() repeats it
        return {job.id: job for job in self.store.get_all_jobs()}

    def _remove(self, job_id: str) -> None:
        if self.running:
            self.scheduler.remove_job(job_id)
        else:
            self.store.remove_job(job_id)


def job_context(job_id: str) -> tuple[str, str | None]:
    """(job kind, outlet) of a job id, for log lines: ``poll:X`` is ``("poll", "X")``."""
    if job_id.startswith(POLL_PREFIX):
        return "poll", job_id[len(POLL_PREFIX) :]
    return job_id, None


def _log_skipped(event: JobEvent) -> None:
    """APScheduler's own warnings, as our one-line events with job and outlet."""
    log = job_logger(logger, *job_context(event.job_id))
    if event.code == EVENT_JOB_MAX_INSTANCES:
        log.info("run skipped: the previous one is still going")
    elif isinstance(event, JobExecutionEvent):
        log.warning(
            "run of %s skipped: missed by more than [run] misfire_grace",
            event.scheduled_run_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


def same_schedule(spec: JobSpec, job: Job) -> bool:
    trigger = job.trigger
    if not isinstance(trigger, IntervalTrigger):
        return False
    return (
        math.isclose(trigger.interval.total_seconds(), spec.interval)
        and math.isclose(float(trigger.jitter or 0), spec.jitter)
        and tuple(job.args) == spec.args
    )


def next_run_time(spec: JobSpec, old: Job | None, now: datetime) -> datetime:
    """Keep a stored job's next run; a long-missed one comes back as its latest missed time
    (one catch-up, not a burst); a changed interval never waits longer than the new one."""
    previous: datetime | None = getattr(old, "next_run_time", None) if old else None
    if old is None or previous is None:
        return now + timedelta(seconds=spec.first_run_in)
    if not same_schedule(spec, old):
        return min(previous, now + timedelta(seconds=spec.interval))
    if previous < now:
        missed = math.floor((now - previous).total_seconds() / spec.interval)
        return previous + timedelta(seconds=missed * spec.interval)
    return previous


# --- the jobs (module-level functions with plain arguments: the job store pickles them) -------

_active: Supervisor | None = None


def activate(supervisor: Supervisor | None) -> None:
    """Point the jobs at the daemon's supervisor (None when it stops)."""
    global _active
    _active = supervisor


def poll_outlet(config_path: str, database: str, outlet: str) -> None:
    """Crawl ``outlet``: new articles and its due rechecks."""
    _run("poll", outlet, lambda s: s.poll(outlet))


def recheck_due(config_path: str, database: str) -> None:
    """Recheck due articles of the outlets that are not being crawled."""
    _run("recheck", None, lambda s: s.recheck())


def maintain_database(config_path: str, database: str) -> None:
    """Raw-HTML retention and search-index optimisation."""
    _run("maintenance", None, lambda s: s.maintain())


def _run(job: str, outlet: str | None, work: Callable[[Supervisor], Any]) -> None:
    log = job_logger(logger, job, outlet)
    supervisor = _active
    if supervisor is None:
        log.error("no running daemon in this process: job ignored")
        return
    try:
        work(supervisor)
    except Exception:  # a job's failure must never stop the daemon: log it, go on
        log.exception("job failed")
