"""``newsmon run``: the daemon's life: lock, scheduler, signals, reload, stop.

Threads: the main thread runs the :class:`BlockingScheduler`; a control thread heartbeats the
daemon lock and acts on signals (the handlers only set flags), so a reload or a shutdown never
runs inside a signal handler; job threads each wait for their crawl child.

SIGHUP re-reads the config (a broken one is rejected and the old one keeps running).
SIGTERM/SIGINT: no new jobs, running crawls get ``[run] grace_period`` after a SIGINT of their
own, then are terminated; the lock is released and the exit status is 0. A second SIGTERM/SIGINT
cuts the grace period short.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pipeline.config import ConfigError
from pipeline.logs import job_logger, setup_logging
from pipeline.runlock import RunLock
from pipeline.scheduler import JobSchedule, SyncReport, activate, job_specs, poll_job_id
from pipeline.snapshot import ConfigSnapshot, SnapshotStore
from pipeline.supervisor import Supervisor
from storage.migrate import upgrade_database

logger = logging.getLogger(__name__)
log = job_logger(logger, "daemon")

EXIT_OK = 0
EXIT_LOST_LOCK = 1
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    lock_ttl: int = 60  # seconds without a heartbeat before the lock may be taken over
    verbose: int = 0


def run_daemon(config_path: Path, database_url: str, options: DaemonOptions) -> int:
    """Run until stopped; returns the exit status.

    Raises:
        ConfigError: the config is invalid or has no outlets.
        DaemonLockHeld: another live daemon holds the database.
    """
    return Daemon(config_path, database_url, options).run()


class Daemon:
    def __init__(self, config_path: Path, database_url: str, options: DaemonOptions) -> None:
        self.config_path = config_path
        self.database_url = database_url
        self.options = options
        self.snapshots = SnapshotStore()
        self.exit_code = EXIT_OK
        self._wake = threading.Event()
        self._stop_requested = False
        self._hurry_requested = False
        self._reload_requested = False

    def run(self) -> int:
        try:
            snapshot = self._load()
            self._setup_logging(snapshot)
            upgrade_database(self.database_url)  # stories are synced by each crawl child
            lock = RunLock(
                self.database_url, self.options.lock_ttl, {"config": str(self.config_path)}
            )
            try:
                lock.acquire()
                return self._serve(snapshot, lock)
            finally:
                lock.release()
                lock.close()
        finally:
            self.snapshots.cleanup()

    # --- running ------------------------------------------------------------------------------

    def _serve(self, snapshot: ConfigSnapshot, lock: RunLock) -> int:
        self.lock = lock
        self.schedule = JobSchedule(self.database_url)
        self.supervisor = Supervisor(snapshot, self.database_url, self._delay_poll)
        report = self._sync_jobs(snapshot)
        log.info(
            "newsmon run started: %d outlet(s), database %s; jobs: %s",
            len(snapshot.config.outlets),
            _label(self.database_url),
            report,
        )
        activate(self.supervisor)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in self._signals()}
        self.schedule.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        self._control_thread: threading.Thread | None = None
        try:
            self.schedule.scheduler.start()  # blocks until the control thread shuts it down
        finally:
            self._stop_requested = True
            self._wake.set()
            if self._control_thread is not None:
                self._control_thread.join()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            activate(None)
            self.supervisor.close()
        log.info("newsmon run stopped (exit status %d)", self.exit_code)
        return self.exit_code

    def _on_started(self, event: SchedulerEvent) -> None:
        self._control_thread = threading.Thread(target=self._control, name="control", daemon=True)
        self._control_thread.start()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Only flags here: the control thread does the work (never inside a handler)."""
        if signum == getattr(signal, "SIGHUP", None):
            self._reload_requested = True
        else:
            self._hurry_requested = self._stop_requested
            self._stop_requested = True
        self._wake.set()

    def _control(self) -> None:
        """Heartbeat every ttl/3; reload on SIGHUP; stop on SIGTERM/SIGINT or a lost lock."""
        interval = max(1.0, self.lock.ttl / 3)
        next_beat = time.monotonic() + interval
        stopper: threading.Thread | None = None
        while True:
            self._wake.wait(timeout=max(0.0, next_beat - time.monotonic()))
            self._wake.clear()
            if self._stop_requested and stopper is None:
                stopper = self._start_shutdown()
            if self._hurry_requested:
                self.supervisor.hurry()
            if self._reload_requested and stopper is None:
                self._reload_requested = False
                self._reload()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + interval
                if not self._beat() and stopper is None:
                    self.exit_code = EXIT_LOST_LOCK
                    self._hurry_requested = True
                    self.supervisor.hurry()
                    stopper = self._start_shutdown()
            if stopper is not None and not stopper.is_alive():
                return

    def _beat(self) -> bool:
        try:
            if self.lock.heartbeat():
                return True
        except SQLAlchemyError as exc:  # the database may come back before the ttl runs out
            log.warning("heartbeat failed, will retry: %s", exc)
            return True
        log.critical("the daemon lock was taken over by another newsmon run: stopping now")
        return False

    def _start_shutdown(self) -> threading.Thread:
        thread = threading.Thread(target=self._shutdown, name="shutdown", daemon=True)
        thread.start()
        return thread

    def _shutdown(self) -> None:
        grace = 0.0 if self._hurry_requested else self._grace()
        log.info("stopping: no new jobs; running crawls get %.0fs to finish", grace)
        try:
            if self.schedule.running:
                self.schedule.scheduler.pause()
            self.supervisor.stop(grace)
            if self.schedule.running:
                self.schedule.scheduler.shutdown(wait=True)
        finally:
            self._wake.set()

    def _grace(self) -> float:
        return self.supervisor.snapshot.config.run.grace_period.total_seconds()

    # --- reload -------------------------------------------------------------------------------

    def _reload(self) -> None:
        try:
            snapshot = self._load()
        except ConfigError as exc:
            log.error("config reload rejected, the previous config keeps running: %s", exc)
            return
        if snapshot.config.database_url != self.supervisor.snapshot.config.database_url:
            log.warning("[database] url changed: it takes effect when newsmon run restarts")
        self.supervisor.snapshot = snapshot
        self._setup_logging(snapshot)
        report = self._sync_jobs(snapshot)
        log.info("config reloaded: %d outlet(s); jobs: %s", len(snapshot.config.outlets), report)

    def _load(self) -> ConfigSnapshot:
        snapshot = self.snapshots.load(self.config_path)
        if not snapshot.config.outlets:
            raise ConfigError(self.config_path, "outlets", "no outlets configured")
        return snapshot

    def _sync_jobs(self, snapshot: ConfigSnapshot) -> SyncReport:
        config = snapshot.config
        specs = job_specs(config, _label(self.database_url))
        return self.schedule.sync(specs, config.run.misfire_grace.total_seconds())

    def _setup_logging(self, snapshot: ConfigSnapshot) -> None:
        config = snapshot.config
        setup_logging(config.run, config.path.resolve().parent, self.options.verbose)

    def _delay_poll(self, outlet: str, until: datetime) -> None:
        self.schedule.delay(poll_job_id(outlet), until)

    @staticmethod
    def _signals() -> list[int]:
        hup = getattr(signal, "SIGHUP", None)
        return [*_STOP_SIGNALS, *([hup] if hup is not None else [])]


def _label(database_url: str) -> str:
    """The URL without its password (logged, and stored in the job table)."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:
        return "(database)"
