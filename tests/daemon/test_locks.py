"""The daemon lock on SQLite and PostgreSQL: acquire, refuse, heartbeat, stale takeover, release."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from pipeline.runlock import DaemonLockHeld, RunLock, holder_is_gone, machine_identity
from storage.db import make_engine, make_session_factory
from storage.locks import (
    RUN_LOCK,
    Claimant,
    LockInfo,
    acquire_lock,
    read_lock,
    refresh_lock,
    release_lock,
)
from storage.models import CrawlRun, DaemonLock
from storage.runs import start_run
from tests.storage import conftest as storage_fixtures

sqlite_url = storage_fixtures.sqlite_url
postgres_url = storage_fixtures.postgres_url
db_url = storage_fixtures.db_url

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def claimant(name: str, ttl: int = 60, pid: int = 4242) -> Claimant:
    return Claimant(holder=name, pid=pid, hostname="host-" + name, ttl_seconds=ttl)


@pytest.fixture
def sessions(db_url: str):
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    yield factory
    with factory.begin() as session:  # the PostgreSQL database is shared by the session
        session.execute(delete(DaemonLock))
        session.execute(delete(CrawlRun))
    engine.dispose()


def attempt(sessions, who: Claimant, now: datetime = NOW, **kwargs):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return acquire_lock(session, RUN_LOCK, who, now, **kwargs)


def test_first_claimant_gets_the_lock_and_the_second_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    assert attempt(sessions, claimant("a")).acquired
    refused = attempt(sessions, claimant("b"), NOW + timedelta(seconds=30))
    assert not refused.acquired
    assert refused.current is not None
    assert refused.current.holder == "a"
    assert refused.current.pid == 4242


def test_a_lock_older_than_its_ttl_is_taken_over(sessions) -> None:  # type: ignore[no-untyped-def]
    attempt(sessions, claimant("a", ttl=60))
    later = NOW + timedelta(seconds=61)
    result = attempt(sessions, claimant("b"), later)
    assert result.acquired
    assert result.taken_over is not None
    assert result.taken_over.holder == "a"
    with sessions() as session:
        lock = read_lock(session, RUN_LOCK)
    assert lock is not None
    assert lock.holder == "b"
    assert lock.acquired_at == later


def test_heartbeat_keeps_the_lock_alive(sessions) -> None:  # type: ignore[no-untyped-def]
    attempt(sessions, claimant("a", ttl=60))
    with sessions.begin() as session:
        assert refresh_lock(session, RUN_LOCK, "a", NOW + timedelta(seconds=50))
    assert not attempt(sessions, claimant("b"), NOW + timedelta(seconds=100)).acquired


def test_the_old_holder_learns_it_lost_the_lock(sessions) -> None:  # type: ignore[no-untyped-def]
    attempt(sessions, claimant("a", ttl=10))
    attempt(sessions, claimant("b"), NOW + timedelta(seconds=11))
    with sessions.begin() as session:
        assert not refresh_lock(session, RUN_LOCK, "a", NOW + timedelta(seconds=12))
        assert not release_lock(session, RUN_LOCK, "a")  # must not drop b's lock
    with sessions() as session:
        lock = read_lock(session, RUN_LOCK)
    assert lock is not None
    assert lock.holder == "b"


def test_takeover_is_a_compare_and_swap(sessions) -> None:  # type: ignore[no-untyped-def]
    """Two contenders read the same stale lock: the first swap wins, the second finds it gone."""
    from storage.locks import _take_over

    attempt(sessions, claimant("a", ttl=10))
    later = NOW + timedelta(seconds=30)
    with sessions() as session:
        stale = read_lock(session, RUN_LOCK)
    assert stale is not None
    with sessions.begin() as session:
        assert _take_over(session, stale, claimant("b"), later)
    with sessions.begin() as session:
        assert not _take_over(session, stale, claimant("c"), later)
    with sessions() as session:
        assert read_lock(session, RUN_LOCK).holder == "b"  # type: ignore[union-attr]


def test_a_holder_that_heartbeats_meanwhile_keeps_its_lock(sessions) -> None:  # type: ignore[no-untyped-def]
    from storage.locks import _take_over

    attempt(sessions, claimant("a", ttl=10))
    with sessions() as session:
        stale = read_lock(session, RUN_LOCK)
    with sessions.begin() as session:
        refresh_lock(session, RUN_LOCK, "a", NOW + timedelta(seconds=9))
    with sessions.begin() as session:
        assert not _take_over(session, stale, claimant("b"), NOW + timedelta(seconds=30))  # type: ignore[arg-type]


def test_release_frees_the_lock(sessions) -> None:  # type: ignore[no-untyped-def]
    attempt(sessions, claimant("a"))
    with sessions.begin() as session:
        assert release_lock(session, RUN_LOCK, "a")
    assert attempt(sessions, claimant("b"), NOW + timedelta(seconds=1)).acquired


def test_also_stale_lets_a_dead_holder_go_before_its_ttl(sessions) -> None:  # type: ignore[no-untyped-def]
    attempt(sessions, claimant("a"))
    result = attempt(sessions, claimant("b"), also_stale=lambda lock: lock.holder == "a")
    assert result.acquired
    assert result.taken_over is not None


def lock_info(**changes: object) -> LockInfo:
    values: dict[str, object] = {
        "name": RUN_LOCK,
        "holder": "x",
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "acquired_at": NOW,
        "heartbeat_at": NOW,
        "ttl_seconds": 60,
        "info": machine_identity(),
    }
    values.update(changes)
    return LockInfo(**values)  # type: ignore[arg-type]


def dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(len(machine_identity()) < 2, reason="needs /proc (Linux)")
def test_a_holder_is_gone_only_when_its_process_is_gone_on_this_machine() -> None:
    assert not holder_is_gone(lock_info())  # this very process
    assert holder_is_gone(lock_info(pid=dead_pid()))
    assert not holder_is_gone(lock_info(pid=dead_pid(), hostname="elsewhere"))
    other_namespace = {**machine_identity(), "pid_ns": "pid:[1]"}
    assert not holder_is_gone(lock_info(pid=dead_pid(), info=other_namespace))


def test_run_lock_refuses_with_the_holders_details(sqlite_url: str) -> None:
    first = RunLock(sqlite_url, ttl=60)
    first.acquire()
    second = RunLock(sqlite_url, ttl=60)
    with pytest.raises(DaemonLockHeld) as refused:
        second.acquire()
    message = str(refused.value)
    assert "another newsmon run holds this database" in message
    assert f"pid {os.getpid()} on {socket.gethostname()}" in message
    assert "last heartbeat 0s ago" in message
    assert first.heartbeat()
    first.release()
    second.acquire()  # free again
    assert not first.heartbeat()
    first.close()
    second.close()


def test_taking_over_closes_the_runs_the_dead_daemon_left_open(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    old = datetime.now(UTC) - timedelta(hours=1)
    with sessions.begin() as session:
        session.add(
            DaemonLock(
                name=RUN_LOCK,
                holder="dead",
                pid=999_999,
                hostname="elsewhere",
                acquired_at=old,
                heartbeat_at=old,
                ttl_seconds=60,
                info={},
            )
        )
        orphan = start_run(session, pid=999_999)
        orphan.started_at = old + timedelta(minutes=1)
        unrelated = start_run(session, pid=123)
        ids = orphan.id, unrelated.id
    lock = RunLock(sqlite_url, ttl=60)
    lock.acquire()
    with sessions() as session:
        runs = {run.id: run for run in session.scalars(select(CrawlRun))}
    assert runs[ids[0]].status == "failed"
    assert "abandoned: newsmon run (pid 999999 on elsewhere)" in (runs[ids[0]].reason or "")
    assert runs[ids[1]].status == "running"
    lock.release()
    lock.close()
    engine.dispose()


def test_a_heartbeat_written_after_the_reader_took_its_clock_has_age_zero() -> None:
    from storage.locks import LockInfo

    now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    lock = LockInfo("newsmon-run", "h", 1, "host", now, now + timedelta(seconds=0.1), 60)
    assert lock.age(now) == 0.0
    assert lock.age(now + timedelta(seconds=5)) == pytest.approx(4.9)


def test_status_says_a_daemon_killed_here_is_down_before_its_lock_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess
    import sys

    from pipeline import status

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that ran on this machine and has ended
    monkeypatch.setattr(status, "read_lock", lambda _s, _n: lock_info(pid=gone.pid))
    daemon = status._daemon(None, NOW + timedelta(seconds=5))  # type: ignore[arg-type]
    assert daemon["state"] == "gone"
    assert status._daemon_line(daemon).startswith("Daemon: down (its process is gone: killed?)")
    monkeypatch.setattr(status, "read_lock", lambda _s, _n: lock_info())  # this process: alive
    assert status._daemon(None, NOW + timedelta(seconds=5))["state"] == "up"  # type: ignore[arg-type]
