"""The daemon lock: one ``newsmon run`` per database, kept alive by a heartbeat.

A row of ``daemon_locks`` names its holder. Acquiring inserts the row if absent
(``INSERT … ON CONFLICT DO NOTHING``, atomic on SQLite and PostgreSQL); a row whose heartbeat is
older than its ttl is stale and is taken over with a compare-and-swap ``UPDATE`` on the holder
and heartbeat that were read, so of two contenders exactly one wins, and a holder that
heartbeats in between keeps its lock. Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import DaemonLock

RUN_LOCK = "newsmon-run"
_INSERT_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds a lock, as stored."""

    name: str
    holder: str
    pid: int
    hostname: str
    acquired_at: datetime
    heartbeat_at: datetime
    ttl_seconds: int
    info: dict[str, Any] = field(default_factory=dict)

    def age(self, now: datetime) -> float:
        """Seconds since the last heartbeat; never negative (a heartbeat written after the
        reader took ``now`` is simply fresh)."""
        return max(0.0, (now - self.heartbeat_at).total_seconds())

    def is_stale(self, now: datetime) -> bool:
        return self.age(now) > self.ttl_seconds


@dataclass(frozen=True, slots=True)
class Claimant:
    """Who wants the lock: a unique holder token plus what operators need to find it."""

    holder: str
    pid: int
    hostname: str
    ttl_seconds: int
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LockAttempt:
    """The result of :func:`acquire_lock`.

    ``acquired``: the claimant holds the lock now. ``taken_over``: the stale lock it replaced.
    ``current``: when refused, the live holder.
    """

    acquired: bool
    taken_over: LockInfo | None = None
    current: LockInfo | None = None


def acquire_lock(
    session: Session,
    name: str,
    claimant: Claimant,
    now: datetime,
    *,
    also_stale: Callable[[LockInfo], bool] | None = None,
) -> LockAttempt:
    """Take lock ``name`` if it is free or stale (``also_stale`` can declare more holders dead).

    Args:
        session: the caller commits right after (the lock is held once committed).
        name: the lock's name, e.g. :data:`RUN_LOCK`.
        claimant: the would-be holder.
        now: the current time (aware, UTC).
        also_stale: e.g. "its process is gone", beyond the heartbeat rule.

    Returns:
        What happened; when refused, ``current`` is the live holder.
    """
    for _ in range(_INSERT_ATTEMPTS):
        if _insert_if_absent(session, name, claimant, now):
            return LockAttempt(acquired=True)
        current = read_lock(session, name)
        if current is None:  # released between our insert and our read: try again
            continue
        if current.holder == claimant.holder:
            refresh_lock(session, name, claimant.holder, now)
            return LockAttempt(acquired=True)
        if not (current.is_stale(now) or (also_stale is not None and also_stale(current))):
            return LockAttempt(acquired=False, current=current)
        if _take_over(session, current, claimant, now):
            return LockAttempt(acquired=True, taken_over=current)
        return LockAttempt(acquired=False, current=read_lock(session, name))
    return LockAttempt(acquired=False, current=read_lock(session, name))


def refresh_lock(session: Session, name: str, holder: str, now: datetime) -> bool:
    """Heartbeat; False means the lock is no longer ours (taken over or deleted)."""
    result = session.execute(
        update(DaemonLock)
        .where(DaemonLock.name == name, DaemonLock.holder == holder)
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def release_lock(session: Session, name: str, holder: str) -> bool:
    """Drop the lock if ``holder`` still has it; True if it did."""
    result = session.execute(
        delete(DaemonLock)
        .where(DaemonLock.name == name, DaemonLock.holder == holder)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def read_lock(session: Session, name: str) -> LockInfo | None:
    row = session.execute(select(DaemonLock).where(DaemonLock.name == name)).scalar_one_or_none()
    if row is None:
        return None
    session.expunge(row)  # a fresh read next time, never a cached row
    return LockInfo(
        name=row.name,
        holder=row.holder,
        pid=row.pid,
        hostname=row.hostname,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
        ttl_seconds=row.ttl_seconds,
        info=dict(row.info or {}),
    )


def describe_holder(lock: LockInfo, now: datetime) -> str:
    """``pid 4242 on host-a, since 2026-12-01 10:00:00Z, last heartbeat 12s ago``."""
    return (
        f"pid {lock.pid} on {lock.hostname}, since {lock.acquired_at:%Y-%m-%d %H:%M:%S}Z, "
        f"last heartbeat {format_age(lock.age(now))} ago"
    )


def format_age(seconds: float) -> str:
    """``12s``, ``3m05s``, ``2h10m``, ``4d3h``."""
    value = max(0, int(seconds))
    if value < 60:
        return f"{value}s"
    if value < 3600:
        return f"{value // 60}m{value % 60:02d}s"
    if value < 86400:
        return f"{value // 3600}h{value % 3600 // 60:02d}m"
    return f"{value // 86400}d{value % 86400 // 3600}h"


def _insert_if_absent(session: Session, name: str, claimant: Claimant, now: datetime) -> bool:
    values = {
        "name": name,
        "holder": claimant.holder,
        "pid": claimant.pid,
        "hostname": claimant.hostname,
        "acquired_at": now,
        "heartbeat_at": now,
        "ttl_seconds": claimant.ttl_seconds,
        "info": claimant.info,
    }
    dialect = session.get_bind().dialect.name
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(DaemonLock).values(**values).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = postgresql.insert(DaemonLock).values(**values).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"daemon locks support SQLite and PostgreSQL, not {dialect}")
    return _rowcount(session.execute(statement)) == 1


def _take_over(session: Session, stale: LockInfo, claimant: Claimant, now: datetime) -> bool:
    """Compare-and-swap: succeeds only if the row is still exactly the stale one we read."""
    result = session.execute(
        update(DaemonLock)
        .where(
            DaemonLock.name == stale.name,
            DaemonLock.holder == stale.holder,
            DaemonLock.heartbeat_at == stale.heartbeat_at,
        )
        .values(
            holder=claimant.holder,
            pid=claimant.pid,
            hostname=claimant.hostname,
            acquired_at=now,
            heartbeat_at=now,
            ttl_seconds=claimant.ttl_seconds,
            info=claimant.info,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
