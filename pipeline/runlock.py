"""The daemon lock from the daemon's side: acquire it (or refuse to start), heartbeat, release.

A lock is stale when its heartbeat is older than its ttl, or, on the same machine and PID
namespace, when its process no longer exists (a daemon killed with -9 and restarted at once
need not wait for the ttl).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.logs import job_logger
from pipeline.procwatch import alive
from storage.db import make_engine, make_session_factory
from storage.locks import (
    RUN_LOCK,
    Claimant,
    LockInfo,
    acquire_lock,
    describe_holder,
    format_age,
    refresh_lock,
    release_lock,
)
from storage.runs import fail_run
from storage.status import open_runs

logger = logging.getLogger(__name__)
log = job_logger(logger, "daemon")


class DaemonLockHeld(Exception):
    """Another live ``newsmon run`` holds this database (a user error: exit status 2)."""


def machine_identity() -> dict[str, str]:
    """Boot id and PID namespace: two processes share both only on one kernel and namespace."""
    identity = {}
    with contextlib.suppress(OSError):
        identity["boot_id"] = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    with contextlib.suppress(OSError):
        identity["pid_ns"] = os.readlink("/proc/self/ns/pid")
    return identity


def this_machine() -> str:
    """Where this process runs, as crawl runs store it: host name, boot id, PID namespace."""
    identity = machine_identity()
    parts = [socket.gethostname(), identity.get("boot_id", "?"), identity.get("pid_ns", "?")]
    return " ".join(parts)


def ended_here(machine: str | None, pid: int | None) -> bool:
    """True if process ``pid`` ran on this machine (as :func:`this_machine` says) and is gone.

    Elsewhere, or where the machine cannot be told apart, a pid says nothing: False.
    """
    if pid is None or not machine or "?" in machine.split() or machine != this_machine():
        return False
    return not alive(pid)


def holder_is_gone(lock: LockInfo) -> bool:
    """True if the holder ran here (same host, boot and PID namespace) and its process is gone."""
    ours = machine_identity()
    if len(ours) < 2 or lock.hostname != socket.gethostname():
        return False
    if any(lock.info.get(key) != value for key, value in ours.items()):
        return False
    return not alive(lock.pid)


class RunLock:
    """This daemon's claim on the database."""

    def __init__(self, database_url: str, ttl: int, info: dict[str, Any] | None = None) -> None:
        self.engine = make_engine(database_url, immediate=True)
        self.sessions = make_session_factory(self.engine)
        hostname = socket.gethostname()
        pid = os.getpid()
        self.claimant = Claimant(
            holder=f"{hostname}:{pid}:{uuid.uuid4().hex[:12]}",
            pid=pid,
            hostname=hostname,
            ttl_seconds=ttl,
            info={**machine_identity(), "version": __version__, **(info or {})},
        )

    @property
    def ttl(self) -> int:
        return self.claimant.ttl_seconds

    def acquire(self) -> None:
        """Take the lock, taking over a stale one; raises :class:`DaemonLockHeld` if it is live."""
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            attempt = acquire_lock(session, RUN_LOCK, self.claimant, now, also_stale=holder_is_gone)
        if not attempt.acquired:
            current = attempt.current
            holder = describe_holder(current, now) if current else "unknown holder"
            ttl = current.ttl_seconds if current else self.ttl
            raise DaemonLockHeld(
                f"another newsmon run holds this database ({holder}); stop it first, or start "
                f"again once its lock expires ({ttl}s without a heartbeat)"
            )
        if attempt.taken_over is not None:
            stale = attempt.taken_over
            log.warning(
                "took over a stale daemon lock: %s (ttl %ds, heartbeat %s old)",
                describe_holder(stale, now),
                stale.ttl_seconds,
                format_age(stale.age(now)),
            )
            self._close_abandoned_runs(stale)

    def heartbeat(self) -> bool:
        """Refresh the lock; False if it is no longer ours (a successor took it over)."""
        with self.sessions.begin() as session:
            return refresh_lock(session, RUN_LOCK, self.claimant.holder, datetime.now(UTC))

    def release(self) -> None:
        with self.sessions.begin() as session:
            release_lock(session, RUN_LOCK, self.claimant.holder)

    def close(self) -> None:
        self.engine.dispose()

    def _close_abandoned_runs(self, stale: LockInfo) -> None:
        """Runs the dead daemon had started and nobody closed are marked failed."""
        reason = f"abandoned: newsmon run (pid {stale.pid} on {stale.hostname}) stopped"
        with self.sessions.begin() as session:
            for run in open_runs(session):
                if run.pid == stale.pid and run.started_at >= stale.acquired_at:
                    fail_run(session, run.run_id, reason)
                    log.warning("crawl run %d marked failed: %s", run.run_id, reason)
