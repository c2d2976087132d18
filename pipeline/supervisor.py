"""What the scheduler's jobs do: poll an outlet, recheck due articles, maintain the database.

One activity per outlet at a time: polls, rechecks and maintenance claim outlets here first,
and skip the ones that are busy. Every crawl runs in a child process whose crawl-run row is
created here beforehand, so a child that is killed, crashes or times out still leaves a failed
run with its reason; the child's own ``CrawlRunExtension`` closes the runs that end normally.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pipeline.children import (
    ChildRegistry,
    CrawlSlots,
    Stopping,
    child_env,
    crawl_command,
    failure_reason,
)
from pipeline.logs import JobLogger, job_logger
from pipeline.maintenance import drop_raw_html, optimise_search_index, stored_outlets
from pipeline.runlock import this_machine
from pipeline.snapshot import ConfigSnapshot
from storage.db import make_engine, make_session_factory
from storage.models import CrawlRun
from storage.runs import OutletCounts, finish_run, run_summary, start_run
from storage.status import PLANNED_KEY, due_counts, run_state

logger = logging.getLogger(__name__)

DelayPoll = Callable[[str, datetime], None]  # (outlet, not before)
MAX_PARALLEL_CRAWLS = 6  # PostgreSQL; keeps two of the scheduler's 8 threads for other jobs
SQLITE_PARALLEL_CRAWLS = 2
_MAINTENANCE_WAIT = 120.0  # seconds a maintenance pass waits for busy outlets, in all


class Supervisor:
    """Runs the work the jobs ask for, against one database, with the current config."""

    def __init__(self, snapshot: ConfigSnapshot, database_url: str, delay_poll: DelayPoll) -> None:
        self.snapshot = snapshot  # replaced on reload; read once per job
        self.database_url = database_url
        self.delay_poll = delay_poll
        self.children = ChildRegistry()
        # SQLite: take the write lock at BEGIN, so a read-then-write transaction never fails
        # at once because a crawl child committed in between (see storage.db.make_engine).
        self.engine = make_engine(database_url, immediate=True)
        self.sessions = make_session_factory(self.engine)
        self._busy: set[str] = set()
        self._idle = threading.Condition()  # notified whenever outlets are released
        self._not_before: dict[str, float] = {}
        self._stopped = threading.Event()
        self._slots = CrawlSlots(parallel_crawls(database_url))

    # --- jobs ---------------------------------------------------------------------------------

    def poll(self, outlet: str) -> None:
        """Crawl one outlet: new articles and its due rechecks together."""
        log = job_logger(logger, "poll", outlet)
        if self._stopped.is_set():
            return
        names = {o.name for o in self.snapshot.config.outlets}
        if outlet not in names:
            log.info("skipped: outlet no longer configured")
            return
        until = self._not_before.get(outlet, 0.0)
        if until > time.time():
            log.info("skipped: the outlet asked us to come back after %s", _iso(until))
            return
        if not self._claim([outlet]):
            log.info("skipped: the outlet is busy (a recheck or maintenance is running)")
            return
        try:
            self._crawl("poll", [outlet], log)
        finally:
            self._release([outlet])

    def recheck(self) -> None:
        """Recheck due articles of every configured outlet that is not busy, in one child."""
        log = job_logger(logger, "recheck")
        if self._stopped.is_set():
            return
        with self.sessions() as session:
            due = due_counts(session, datetime.now(UTC))
        now = time.time()
        wanted = [
            o.name
            for o in self.snapshot.config.outlets
            if due.get(o.name) and self._not_before.get(o.name, 0.0) <= now
        ]
        claimed = self._claim(wanted)
        busy = [name for name in wanted if name not in claimed]
        if busy:
            log.info("skipped busy outlets (their own poll rechecks them): %s", ", ".join(busy))
        if not claimed:
            log.debug("no due articles in idle outlets")
            return
        try:
            log = job_logger(logger, "recheck", ",".join(claimed))
            log.info("%d due article(s)", sum(due[name] for name in claimed))
            self._crawl("recheck", claimed, log)
        finally:
            self._release(claimed)

    def maintain(self) -> None:
        """Drop raw HTML past its retention (outlet by outlet), then optimise the search index."""
        log = job_logger(logger, "maintenance")
        if self._stopped.is_set():
            return
        retention = self.snapshot.config.versions.raw_html_retention
        if retention.total_seconds() > 0:
            cutoff = datetime.now(UTC) - retention
            dropped = self._drop_raw_html(stored_outlets(self.sessions), cutoff, log)
            log.info("dropped the raw HTML of %d version(s) fetched before %s", dropped, cutoff)
        if optimise_search_index(self.sessions):
            log.info("full-text index optimised")

    # --- lifecycle ----------------------------------------------------------------------------

    def stop(self, grace: float) -> None:
        """No new work; running children get ``grace`` seconds after a SIGINT, then are killed."""
        self._stopped.set()
        self.children.stop_all(grace, job_logger(logger, "daemon"))

    def hurry(self) -> None:
        self.children.hurry()

    def close(self) -> None:
        self.engine.dispose()

    # --- crawls -------------------------------------------------------------------------------

    def _crawl(self, job: str, outlets: list[str], log: JobLogger) -> None:
        if not self._slots.acquire(self._stopped):
            return
        try:
            self._crawl_in_slot(job, outlets, log)
        finally:
            self._slots.release()

    def _crawl_in_slot(self, job: str, outlets: list[str], log: JobLogger) -> None:
        snapshot = self.snapshot
        limit = snapshot.config.run.crawl_time_limit.total_seconds()
        run_id = self._create_run(job, outlets)
        argv = crawl_command(snapshot.path, outlets, "due", run_id)
        try:
            child = self.children.spawn(argv, child_env(self.database_url), log, limit)
        except (Stopping, OSError) as exc:
            self._record(run_id, outlets, f"not started: {exc}", override=False)
            log.warning("crawl not started (run %d): %s", run_id, exc)
            return
        log.info("crawl started (run %d, pid %d)", run_id, child.pid)
        try:
            outcome = child.wait()
        finally:
            self.children.forget(child)
        reason = failure_reason(outcome, limit)
        status, reason = self._record(run_id, outlets, reason, override=outcome.timed_out)
        if status == "failed":
            log.warning("crawl failed (run %d, %.1fs): %s", run_id, outcome.duration, reason)
        elif reason:
            log.warning("crawl run %d %s, then its process ended: %s", run_id, status, reason)
        elif status != "finished":  # stopped (SIGTERM, shutdown): say so, as the run does
            log.warning(
                "crawl %s (run %d, %.1fs): %s",
                status,
                run_id,
                outcome.duration,
                self._counts(run_id),
            )
        else:
            log.info(
                "crawl finished (run %d, %.1fs): %s", run_id, outcome.duration, self._counts(run_id)
            )
        self._apply_retry_after(run_id, outlets, log)

    def _create_run(self, job: str, outlets: list[str]) -> int:
        with self.sessions.begin() as session:
            run = start_run(session, pid=os.getpid(), machine=this_machine())
            run.stats = {PLANNED_KEY: list(outlets), "newsmon/job": job}
            return run.id

    def _record(
        self, run_id: int, outlets: list[str], reason: str | None, *, override: bool
    ) -> tuple[str, str | None]:
        """Close the run as failed if the child did not (or, on a timeout, whatever it said).

        Returns the run's final status and the failure reason, if any.
        """
        with self.sessions.begin() as session:
            state = run_state(session, run_id)
            if state is None:
                return "failed", reason or "the crawl run row is gone"
            if not state.finished:
                reason = reason or "the crawl exited without closing its run"
                counts = {name: OutletCounts(last_error=reason) for name in outlets}
                finish_run(
                    session,
                    run_id,
                    status="failed",
                    counts=counts,
                    stats=state.stats,
                    reason=reason,
                )
                return "failed", reason
            if reason and override:
                run = session.get(CrawlRun, run_id)
                if run is not None:
                    run.status, run.reason = "failed", reason
                return "failed", reason
            return state.status, reason

    def _counts(self, run_id: int) -> str:
        with self.sessions() as session:
            rows = run_summary(session, run_id)
        total = OutletCounts()
        for _, row in rows:
            total.fetched += row.fetched
            total.new_articles += row.new_articles
            total.new_versions += row.new_versions
            total.errors += row.errors
        return (
            f"{total.fetched} fetched, {total.new_articles} new articles, "
            f"{total.new_versions} new versions, {total.errors} errors"
        )

    def _apply_retry_after(self, run_id: int, outlets: list[str], log: JobLogger) -> None:
        """An outlet that answered ``Retry-After`` beyond the cap is not polled before then."""
        with self.sessions() as session:
            state = run_state(session, run_id)
        stats = state.stats if state else {}
        for name in outlets:
            until = stats.get(f"newsmon/outlet/{name}/retry_after")
            if isinstance(until, int | float) and until > time.time():
                self._not_before[name] = float(until)
                when = datetime.fromtimestamp(until, UTC)
                log.warning("%s sent Retry-After: next poll not before %s", name, _iso(until))
                self.delay_poll(name, when)

    # --- maintenance --------------------------------------------------------------------------

    def _drop_raw_html(self, outlets: list[str], cutoff: datetime, log: JobLogger) -> int:
        """Outlet by outlet, each while no crawl of it runs (waiting a while for busy ones)."""
        dropped, skipped = 0, []
        deadline = time.monotonic() + _MAINTENANCE_WAIT
        for name in outlets:
            if not self._claim_when_idle(name, deadline):
                skipped.append(name)
                continue
            try:
                dropped += drop_raw_html(self.sessions, name, cutoff)
            except SQLAlchemyError as exc:
                log.warning("raw HTML retention failed for %s: %s", name, exc)
            finally:
                self._release([name])
        if skipped:
            log.info("outlets left for the next pass (busy): %s", ", ".join(skipped))
        return dropped

    # --- outlet claims ------------------------------------------------------------------------

    def _claim(self, names: Iterable[str]) -> list[str]:
        """Mark the idle ones among ``names`` busy; returns those (possibly none)."""
        with self._idle:
            claimed = [name for name in names if name not in self._busy]
            self._busy.update(claimed)
            return claimed

    def _claim_when_idle(self, name: str, deadline: float) -> bool:
        """Wait until ``name`` is idle (or ``deadline``, or a stop), then claim it."""
        with self._idle:
            while name in self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped.is_set():
                    return False
                self._idle.wait(min(remaining, 1.0))
            self._busy.add(name)
            return True

    def _release(self, names: Iterable[str]) -> None:
        with self._idle:
            self._busy.difference_update(names)
            self._idle.notify_all()

    def busy(self) -> set[str]:
        with self._idle:
            return set(self._busy)


def parallel_crawls(database_url: str) -> int:
    """How many crawl children may run at once: few on SQLite, which has a single writer
    (crawls mostly wait on the network, so two overlap well), more on PostgreSQL."""
    if make_url(database_url).get_backend_name() == "sqlite":
        return SQLITE_PARALLEL_CRAWLS
    return MAX_PARALLEL_CRAWLS


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
