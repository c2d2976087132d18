"""Scheduling decisions: jobs from the config, next run times kept across restarts, one
catch-up after downtime (a real scheduler on a real job store), maintenance, status, logs."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.config import ConfigError, load_config
from pipeline.logs import EventFormatter, job_logger
from pipeline.maintenance import drop_raw_html, optimise_search_index
from pipeline.scheduler import (
    MAINTENANCE_JOB,
    RECHECK_JOB,
    JobSchedule,
    JobSpec,
    job_context,
    job_specs,
    next_run_time,
    poll_outlet,
)
from pipeline.snapshot import SnapshotStore
from pipeline.status import status_lines, status_record
from storage.blobs import DELTA, PLAIN
from storage.db import make_engine, make_session_factory
from storage.locks import RUN_LOCK, Claimant, acquire_lock
from storage.models import Version
from storage.repository import (
    ArticleSnapshot,
    ChangeStats,
    add_version,
    create_article,
    version_content,
)
from storage.runs import OutletCounts, finish_run, start_run
from storage.status import scheduled_jobs
from tests.storage import conftest as storage_fixtures

sqlite_url = storage_fixtures.sqlite_url

CONFIG = """
[crawl]
interval = "30m"
allow_private_addresses = true

[run]
jitter = "1m"
recheck_interval = "5m"
maintenance_interval = "6h"

[[outlets]]
name = "Axios"
feeds = ["http://127.0.0.2/feed.xml"]

[[outlets]]
name = "Fast Wire"
feeds = ["http://127.0.0.3/feed.xml"]
interval = "1m"
"""


def write_config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_poll_job_per_outlet_plus_recheck_and_maintenance(tmp_path: Path) -> None:
    specs = {s.id: s for s in job_specs(load_config(write_config(tmp_path)), "sqlite:///x.db")}
    assert set(specs) == {"poll:Axios", "poll:Fast Wire", RECHECK_JOB, MAINTENANCE_JOB}
    axios, fast = specs["poll:Axios"], specs["poll:Fast Wire"]
    assert (axios.interval, axios.jitter) == (1800, 60)
    assert (fast.interval, fast.jitter) == (60, 30)  # jitter capped at half the interval
    assert 0 <= axios.first_run_in <= 60
    assert axios.func is poll_outlet
    assert axios.args == (str(tmp_path / "newsmon.toml"), "sqlite:///x.db", "Axios")
    assert specs[RECHECK_JOB].interval == 300
    assert specs[MAINTENANCE_JOB].first_run_in == 6 * 3600
    assert job_context("poll:Fast Wire") == ("poll", "Fast Wire")
    assert job_context(RECHECK_JOB) == (RECHECK_JOB, None)


def spec(interval: float = 60, jitter: float = 0, first: float = 5) -> JobSpec:
    return JobSpec("poll:A", "poll A", poll_outlet, ("c", "d", "A"), interval, jitter, first)


class StoredJob:
    """What next_run_time() reads of an APScheduler job."""

    def __init__(self, interval: float, next_run: datetime | None, jitter: float = 0) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        self.trigger = IntervalTrigger(seconds=interval, jitter=jitter or None, timezone=UTC)
        self.next_run_time = next_run
        self.args = ("c", "d", "A")


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_stored_job_keeps_its_next_run() -> None:
    future = NOW + timedelta(seconds=42)
    assert next_run_time(spec(), StoredJob(60, future), NOW) == future  # type: ignore[arg-type]


def test_a_new_job_starts_after_its_first_delay() -> None:
    assert next_run_time(spec(first=5), None, NOW) == NOW + timedelta(seconds=5)


def test_a_long_missed_job_comes_back_as_its_latest_missed_run() -> None:
    missed = NOW - timedelta(seconds=3 * 60 + 10)  # three and a bit intervals ago
    result = next_run_time(spec(), StoredJob(60, missed), NOW)  # type: ignore[arg-type]
    assert result == NOW - timedelta(seconds=10)  # one catch-up, due now, not four


def test_a_changed_interval_never_waits_longer_than_the_new_one() -> None:
    later = NOW + timedelta(hours=1)
    result = next_run_time(spec(interval=60), StoredJob(3600, later), NOW)  # type: ignore[arg-type]
    assert result == NOW + timedelta(seconds=60)


TICKS: list[float] = []


def tick(label: str) -> None:
    """A job function for the real scheduler below (module level: the job store pickles it)."""
    TICKS.append(time.monotonic())


def run_scheduler(url: str, seconds: float) -> None:
    schedule = JobSchedule(url)
    tick_spec = JobSpec("tick", "tick", tick, ("x",), 1.0, 0.0, 0.0)
    schedule.sync([tick_spec], misfire_grace=30)
    thread = threading.Thread(target=schedule.scheduler.start, daemon=True)
    thread.start()
    time.sleep(seconds)
    schedule.scheduler.shutdown(wait=True)
    thread.join(5)


def test_a_restart_after_downtime_runs_a_missed_job_once(sqlite_url: str) -> None:
    TICKS.clear()
    run_scheduler(sqlite_url, 1.5)  # runs at once, then every second
    assert 1 <= len(TICKS) <= 3
    time.sleep(3.6)  # three runs missed
    TICKS.clear()
    restarted = time.monotonic()
    run_scheduler(sqlite_url, 0.6)
    assert len(TICKS) == 1, "a restart must run one catch-up, not a burst"
    assert TICKS[0] - restarted < 0.6


def persist(schedule: JobSchedule) -> None:
    """Start the scheduler paused (which stores its jobs), then stop it."""
    thread = threading.Thread(target=lambda: schedule.scheduler.start(paused=True), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not schedule.running and time.monotonic() < deadline:
        time.sleep(0.01)
    schedule.scheduler.shutdown()
    thread.join(5)


def test_sync_keeps_stored_jobs_and_removes_dropped_outlets(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = load_config(write_config(tmp_path))
    first = JobSchedule(sqlite_url)
    report = first.sync(job_specs(config, "db"), misfire_grace=600)
    assert sorted(report.added) == ["maintenance", "poll:Axios", "poll:Fast Wire", "recheck"]
    persist(first)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        stored = {job.id: job.next_run_time for job in scheduled_jobs(session)}
    assert set(stored) == {"maintenance", "poll:Axios", "poll:Fast Wire", "recheck"}

    fewer = write_config(tmp_path, CONFIG.split('[[outlets]]\nname = "Fast Wire"')[0])
    second = JobSchedule(sqlite_url)
    report = second.sync(job_specs(load_config(fewer), "db"), misfire_grace=600)
    assert report.removed == ["poll:Fast Wire"]
    assert sorted(report.kept) == ["maintenance", "poll:Axios", "recheck"]
    persist(second)
    with make_session_factory(engine)() as session:
        kept = {job.id: job.next_run_time for job in scheduled_jobs(session)}
    assert set(kept) == {"maintenance", "poll:Axios", "recheck"}
    for job_id, when in kept.items():
        assert when is not None
        assert stored[job_id] is not None
        assert abs((when - stored[job_id]).total_seconds()) < 0.01
    engine.dispose()


def snapshot(outlet: str, text: str, raw: str, fetched_at: datetime) -> ArticleSnapshot:
    return ArticleSnapshot(
        outlet=outlet,
        url=f"http://127.0.0.2/{outlet}.html",
        title="A headline",
        text=text,
        content_hash=str(hash(text)),
        fetched_at=fetched_at,
        raw_html=raw.encode(),
    )


def test_raw_html_retention_never_strands_a_dependent_version(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=1)
    body = " ".join(
        f"Sentence number {i} of a long and fairly repetitive article." for i in range(300)
    )
    page = "<html><body><article>{}</article></body></html>"
    with sessions.begin() as session:
        first = snapshot("Axios", body, page.format(body), old)
        article = create_article(session, first)
        for extra, at in [
            ("", old),
            (" One more.", old + timedelta(hours=1)),
            (" Two more.", recent),
        ]:
            text = body + extra
            add_version(
                session, article, snapshot("Axios", text, page.format(text), at), ChangeStats()
            )
    with sessions() as session:
        codecs = [
            (v.number, v.codec) for v in session.scalars(select(Version).order_by(Version.number))
        ]
    assert codecs == [(1, PLAIN), (2, DELTA), (3, DELTA)]

    assert drop_raw_html(sessions, "Axios", NOW - timedelta(days=30)) == 1  # only version 2
    with sessions() as session:
        raw = {v.number: v.raw_html is not None for v in session.scalars(select(Version))}
        assert raw == {1: True, 2: False, 3: True}  # 3 still needs its keyframe's raw HTML
        for version in session.scalars(select(Version)):
            text, _ = version_content(session, version)
            assert text.startswith("Sentence number 0")

    assert drop_raw_html(sessions, "Axios", NOW) == 2
    assert drop_raw_html(sessions, "Other outlet", NOW) == 0
    with sessions() as session:
        for version in session.scalars(select(Version)):
            assert version.raw_html is None
            assert version.stored_bytes == len(version.text_blob)
            assert version_content(session, version)[0].startswith("Sentence number 0")
    assert optimise_search_index(sessions)
    engine.dispose()


def test_status_record_on_a_database_with_a_daemon_and_runs(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        claimant = Claimant("host:1:abc", 4242, "host-a", 60)
        acquire_lock(session, RUN_LOCK, claimant, now - timedelta(seconds=5))
        run = start_run(session, pid=4242)
        finish_run(
            session,
            run.id,
            status="finished",
            counts={"Axios": OutletCounts(fetched=3, new_articles=2, new_versions=1)},
            stats={},
        )
    with sessions() as session:
        record = status_record(
            session, database="sqlite:///x.db", outlets=["Axios", "Politico"], now=now
        )
        later = now + timedelta(minutes=5)
        stale = status_record(session, database="x", outlets=[], now=later)
    assert set(record) == {"database", "daemon", "running_crawls", "jobs", "outlets", "totals"}
    assert record["daemon"]["state"] == "up"
    assert record["daemon"]["pid"] == 4242
    assert 4 < record["daemon"]["heartbeat_age_seconds"] < 60
    assert record["jobs"] == []
    axios, politico = record["outlets"]
    assert axios["last_run"]["fetched"] == 3
    assert axios["last_run"]["status"] == "finished"
    assert politico == {"name": "Politico", "due_rechecks": 0, "last_run": None}
    assert record["totals"]["crawl_runs"] == 1
    assert record["database"]["size_bytes"] > 0
    json.dumps(record)
    text = "\n".join(status_lines(record, now))
    assert "Daemon: up: pid 4242 on host-a" in text
    assert "Politico: never crawled" in text
    assert stale["daemon"]["state"] == "stale"
    engine.dispose()


def test_log_lines_carry_time_level_job_and_outlet_on_one_line() -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.setFormatter(EventFormatter())
    logger = logging.getLogger("tests.daemon.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        job_logger(logger, "poll", "Outlet A").info("crawl started (run %d)", 7)
        logger.warning("no context")
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            job_logger(logger, "maintenance").exception("failed")
    finally:
        logger.removeHandler(handler)
    started, plain, failed = records
    assert started.endswith(' INFO job=poll outlet="Outlet A" crawl started (run 7)')
    assert datetime.fromisoformat(started.split()[0])
    assert " WARNING job=- outlet=- no context" in plain
    assert "\n" not in failed
    assert "[ValueError: bad ⏎ thing at test_scheduling.py:" in failed


def test_a_snapshot_is_a_private_copy_and_errors_name_the_users_file(tmp_path: Path) -> None:
    store = SnapshotStore()
    try:
        path = write_config(tmp_path)
        accepted = store.load(path)
        assert accepted.config.path == path
        assert accepted.path.parent == store.folder
        path.write_text(CONFIG.replace('interval = "1m"', 'interval = "soon"'), encoding="utf-8")
        with pytest.raises(ConfigError) as rejected:
            store.load(path)
        assert str(rejected.value).startswith(str(path))
        assert "cannot parse duration 'soon'" in str(rejected.value)
        assert load_config(accepted.path).outlets[1].interval == timedelta(minutes=1)
    finally:
        store.cleanup()
    assert not store.folder.exists()
    assert sys.modules["pipeline.scheduler"]  # the job functions' module is importable


def test_apschedulers_own_skip_warnings_are_not_logged_twice(tmp_path: Path) -> None:
    from pipeline.config import RunConfig
    from pipeline.logs import setup_logging

    root = logging.getLogger()
    saved = list(root.handlers), root.level
    log_file = tmp_path / "daemon.log"
    try:
        setup_logging(RunConfig(log_file=str(log_file)), tmp_path)
        scheduler_log = logging.getLogger("apscheduler.scheduler")
        scheduler_log.warning('Execution of job "%s" skipped: maximum number of running', "x")
        logging.getLogger("apscheduler.executors.default").warning("Run time of job missed")
        scheduler_log.warning("Error getting due jobs from job store %r: %s", "default", "down")
    finally:
        for handler in list(root.handlers):
            if handler not in saved[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved[1])
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert "Error getting due jobs from job store 'default': down" in lines[0]


def test_the_copies_of_a_daemon_killed_with_kill_9_are_removed_by_the_next() -> None:
    import subprocess
    import tempfile

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    left = Path(tempfile.mkdtemp(prefix=f"newsmon-run-{ended.pid}-"))  # never cleaned up
    (left / "newsmon-1.toml").write_text("[crawl]\n", encoding="utf-8")
    store = SnapshotStore()
    try:
        assert not left.exists()
        assert store.folder.name.startswith(f"newsmon-run-{os.getpid()}-")
        assert store.folder.exists()  # its own, of a living process, stays
    finally:
        store.cleanup()
