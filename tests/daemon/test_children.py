"""Crawl children: time limits, crashes, kills, graceful stops, fair slots, and how the
supervisor records each outcome in the crawl-run row (fake children, no Scrapy)."""

from __future__ import annotations

import logging
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline import supervisor as supervisor_module
from pipeline.children import (
    ChildOutcome,
    ChildProcess,
    ChildRegistry,
    CrawlSlots,
    Stopping,
    child_env,
    crawl_command,
    failure_reason,
)
from pipeline.logs import job_logger
from pipeline.snapshot import SnapshotStore
from pipeline.supervisor import Supervisor, parallel_crawls
from storage.db import make_engine, make_session_factory
from storage.models import CrawlRun
from storage.repository import ArticleSnapshot, create_article
from storage.runs import run_summary
from tests.storage import conftest as storage_fixtures

sqlite_url = storage_fixtures.sqlite_url
LOG = job_logger(logging.getLogger("tests.daemon.children"), "test", "Outlet A")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def start(code: str, time_limit: float = 30) -> ChildProcess:
    return ChildProcess(python(code), child_env("sqlite://"), LOG, time_limit)


def test_failure_reasons_read_like_the_issue_says() -> None:
    assert failure_reason(ChildOutcome(0, 1.0), 1800) is None
    assert failure_reason(ChildOutcome(-9, 1.0), 1800) == "killed by signal 9"
    assert failure_reason(ChildOutcome(1, 1.0), 1800) == "crashed with exit status 1"
    assert failure_reason(ChildOutcome(-15, 9.0, timed_out=True), 1800) == "timed out after 1800s"
    stopped = ChildOutcome(-9, 1.0, stopped=True)
    assert failure_reason(stopped, 1800) == "stopped at shutdown (killed by signal 9)"
    aborted = ChildOutcome(1, 1.0, stopped=True)  # interrupted while starting up
    assert failure_reason(aborted, 1800) == "stopped at shutdown (exit status 1)"


def test_the_crawl_command_adopts_the_run_and_keeps_the_url_off_the_command_line() -> None:
    argv = crawl_command(Path("/tmp/c.toml"), ["A", "B"], "due", 7)
    assert argv[1:] == [
        "-P",
        "-m",
        "pipeline",
        "--config",
        "/tmp/c.toml",
        "crawl",
        "--outlet",
        "A",
        "--outlet",
        "B",
        "--recheck",
        "due",
        "--run-id",
        "7",
    ]
    assert child_env("postgresql://u:secret@h/db")["NEWSMON_DATABASE_URL"].endswith("@h/db")
    assert parallel_crawls("sqlite:///x.db") == 2
    assert parallel_crawls("postgresql://h/db") == 6


def test_a_child_past_its_time_limit_is_terminated() -> None:
    outcome = start("import time; time.sleep(30)", time_limit=1).wait()
    assert outcome.timed_out
    assert outcome.returncode == -15
    assert 1 <= outcome.duration < 5
    assert failure_reason(outcome, 1) == "timed out after 1s"


def test_a_child_that_ignores_sigterm_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.children.KILL_AFTER", 0.5)
    child = start(
        """
        import signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", file=sys.stderr, flush=True)
        time.sleep(30)
        """,
        time_limit=1,
    )
    outcome = child.wait()
    assert outcome.timed_out
    assert outcome.returncode == -9


def test_crashes_and_kills_are_told_apart() -> None:
    assert start("raise SystemExit(3)").wait().returncode == 3
    assert start("import os; os.kill(os.getpid(), 9)").wait().returncode == -9


def test_child_stderr_becomes_log_lines_without_traceback_noise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tests.daemon.children")
    start(
        """
        import sys
        print("Crawling 1 outlet(s) into sqlite:///x.db …", file=sys.stderr)
        print("2026-12-01 10:00:00 [scrapy.core] ERROR: boom", file=sys.stderr)
        print("Traceback (most recent call last):", file=sys.stderr)
        print('  File "x.py", line 1, in <module>', file=sys.stderr)
        print("ValueError: boom", file=sys.stderr)
        """
    ).wait()
    levels = {r.getMessage().split(": ", 1)[1]: r.levelname for r in caplog.records}
    assert levels["2026-12-01 10:00:00 [scrapy.core] ERROR: boom"] == "WARNING"
    assert levels["ValueError: boom"] == "WARNING"
    assert levels["Traceback (most recent call last):"] == "DEBUG"
    assert levels['  File "x.py", line 1, in <module>'] == "DEBUG"
    assert levels["Crawling 1 outlet(s) into sqlite:///x.db …"] == "DEBUG"
    assert all(r.__dict__["outlet"] == "Outlet A" for r in caplog.records)


def test_stop_all_sends_sigint_then_terminates_after_the_grace_period() -> None:
    registry = ChildRegistry()
    env = child_env("sqlite://")
    polite = registry.spawn(
        python(
            """
            import sys, time
            print("ready", file=sys.stderr, flush=True)
            try:
                time.sleep(30)
            except KeyboardInterrupt:
                sys.exit(0)  # Scrapy stops cleanly on SIGINT
            """
        ),
        env,
        LOG,
        60,
    )
    stubborn = registry.spawn(
        python(
            """
            import signal, sys, time
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("ready", file=sys.stderr, flush=True)
            time.sleep(30)
            """
        ),
        env,
        LOG,
        60,
    )
    time.sleep(0.5)  # both have installed their handlers
    started = time.monotonic()
    registry.stop_all(grace=1.0, log=LOG)
    assert time.monotonic() - started < 4
    assert failure_reason(polite.wait(), 60) is None
    assert failure_reason(stubborn.wait(), 60) == "stopped at shutdown (killed by signal 15)"
    with pytest.raises(Stopping):
        registry.spawn(python("pass"), env, LOG, 60)


def test_crawl_slots_are_granted_in_arrival_order() -> None:
    slots = CrawlSlots(1)
    never = threading.Event()
    assert slots.acquire(never)
    order: list[str] = []

    def wait_for_slot(name: str) -> None:
        slots.acquire(never)
        order.append(name)
        slots.release()

    threads = []
    for name in "abc":
        thread = threading.Thread(target=wait_for_slot, args=(name,))
        thread.start()
        threads.append(thread)
        time.sleep(0.1)
    slots.release()
    for thread in threads:
        thread.join(5)
    assert order == ["a", "b", "c"]
    stop = threading.Event()
    stop.set()
    slots.acquire(never)
    assert not slots.acquire(stop)  # a stopping daemon stops waiting


# --- the supervisor with fake crawl children ------------------------------------------------

CLOSE_RUN = """
import os, sys, time
from storage.db import make_engine, make_session_factory
from storage.runs import OutletCounts, finish_run
run_id = int(sys.argv[1])
stats = {"newsmon/outlet/Outlet A/retry_after": time.time() + 3600} if "retry" in sys.argv else {}
with make_session_factory(make_engine(os.environ["NEWSMON_DATABASE_URL"])).begin() as s:
    finish_run(s, run_id, status="finished", stats=stats,
               counts={"Outlet A": OutletCounts(fetched=2, new_articles=1)})
if "sleep" in sys.argv:
    time.sleep(30)
"""

CONFIG = """
[crawl]
allow_private_addresses = true
[run]
crawl_time_limit = "2s"
[[outlets]]
name = "Outlet A"
feeds = ["http://127.0.0.2/feed.xml"]
[[outlets]]
name = "Outlet B"
feeds = ["http://127.0.0.3/feed.xml"]
"""


class FakeCrawls:
    """Replaces the crawl command: each crawl runs the next script given."""

    def __init__(self) -> None:
        self.scripts: list[tuple[str, tuple[str, ...]]] = []
        self.delayed: list[tuple[str, object]] = []
        self.crawled: list[list[str]] = []

    def command(self, config: Path, outlets: list[str], recheck: str, run_id: int) -> list[str]:
        self.crawled.append(list(outlets))
        code, flags = self.scripts.pop(0)
        return [sys.executable, "-c", code, str(run_id), *flags]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str):  # type: ignore[no-untyped-def]
    crawls = FakeCrawls()
    monkeypatch.setattr(supervisor_module, "crawl_command", crawls.command)
    path = tmp_path / "newsmon.toml"
    path.write_text(CONFIG, encoding="utf-8")
    store = SnapshotStore()
    supervisor = Supervisor(
        store.load(path), sqlite_url, lambda outlet, until: crawls.delayed.append((outlet, until))
    )
    engine = make_engine(sqlite_url)
    yield crawls, supervisor, make_session_factory(engine)
    supervisor.close()
    engine.dispose()
    store.cleanup()


def last_run(sessions) -> CrawlRun:  # type: ignore[no-untyped-def]
    with sessions() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run is not None
        return run


def run_ids(sessions) -> list[int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(CrawlRun.id)))


def test_a_run_the_child_closed_is_left_as_it_is(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    crawls.scripts.append((CLOSE_RUN, ()))
    supervisor.poll("Outlet A")
    run = last_run(sessions)
    assert (run.status, run.reason) == ("finished", None)
    with sessions() as session:
        ((name, counts),) = run_summary(session, run.id)
    assert (name, counts.fetched, counts.new_articles) == ("Outlet A", 2, 1)
    assert crawls.delayed == []


def test_a_killed_child_leaves_a_failed_run_with_its_reason(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    crawls.scripts.append(("import os; os.kill(os.getpid(), 9)", ()))
    supervisor.poll("Outlet A")
    run = last_run(sessions)
    assert (run.status, run.reason) == ("failed", "killed by signal 9")
    assert run.finished_at is not None
    with sessions() as session:
        ((name, counts),) = run_summary(session, run.id)
    assert (name, counts.last_error) == ("Outlet A", "killed by signal 9")


def test_crashes_and_silent_exits_are_failed_runs(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    crawls.scripts.append(("raise SystemExit(1)", ()))
    supervisor.poll("Outlet A")
    assert last_run(sessions).reason == "crashed with exit status 1"
    crawls.scripts.append(("pass", ()))
    supervisor.poll("Outlet A")
    assert last_run(sessions).reason == "the crawl exited without closing its run"


def test_a_timeout_overrides_what_the_child_recorded(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    crawls.scripts.append((CLOSE_RUN, ("sleep",)))
    supervisor.poll("Outlet A")
    run = last_run(sessions)
    assert (run.status, run.reason) == ("failed", "timed out after 2s")


def test_retry_after_delays_the_outlets_next_poll(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    crawls.scripts.append((CLOSE_RUN, ("retry",)))
    supervisor.poll("Outlet A")
    ((outlet, until),) = crawls.delayed
    assert outlet == "Outlet A"
    assert 3500 < (until.timestamp() - time.time()) <= 3600  # type: ignore[attr-defined]
    runs_before = last_run(sessions).id
    supervisor.poll("Outlet A")  # asked to come back later: no crawl
    assert last_run(sessions).id == runs_before


def test_one_activity_per_outlet_at_a_time(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    crawls.scripts.append(("import time; time.sleep(1.5)", ()))
    poll = threading.Thread(target=supervisor.poll, args=("Outlet A",))
    poll.start()
    deadline = time.monotonic() + 5
    while not run_ids(sessions) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert supervisor.busy() == {"Outlet A"}
    first = last_run(sessions).id
    supervisor.poll("Outlet A")  # a second poll of the same outlet is skipped
    assert last_run(sessions).id == first
    poll.join(10)
    assert supervisor.busy() == set()


def test_stop_refuses_new_crawls(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    supervisor.stop(grace=1)
    crawls.scripts.append(("pass", ()))
    supervisor.poll("Outlet A")
    with sessions() as session:
        assert session.scalars(select(CrawlRun)).first() is None


def test_the_recheck_job_takes_due_outlets_that_are_idle(fake) -> None:  # type: ignore[no-untyped-def]
    crawls, supervisor, sessions = fake
    past = datetime.now(UTC) - timedelta(minutes=5)
    with sessions.begin() as session:
        for outlet in ("Outlet A", "Outlet B"):
            article = create_article(
                session,
                ArticleSnapshot(outlet, f"http://x/{outlet[-1]}", "t", "x", "h", past),
            )
            article.next_check_at = past
    assert supervisor._claim(["Outlet A"]) == ["Outlet A"]  # a poll of A is running
    crawls.scripts.append(("pass", ()))
    supervisor.recheck()
    assert crawls.crawled == [["Outlet B"]]
    supervisor._release(["Outlet A"])
    crawls.scripts.append(("pass", ()))
    supervisor.recheck()
    assert crawls.crawled[-1] == ["Outlet A", "Outlet B"]  # one child for both


def process_gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status  # a zombie waiting for init: dead


def test_what_a_failed_child_leaves_behind_is_killed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tests.daemon.children")
    start(
        """
        import os, subprocess, sys, time
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print("worker", worker.pid, file=sys.stderr, flush=True)
        time.sleep(0.3)
        os.kill(os.getpid(), 9)
        """
    ).wait()
    (line,) = [r.getMessage() for r in caplog.records if "worker" in r.getMessage()]
    worker = int(line.rsplit(" ", 1)[1])
    deadline = time.monotonic() + 5
    while not process_gone(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(worker)


CHILD_OF_A_DAEMON = textwrap.dedent(
    """
    import signal, sys, time
    from pipeline.procwatch import stop_when_daemon_ends
    def interrupted(*_):
        print("interrupted", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGINT, interrupted)
    assert stop_when_daemon_ends() is not None
    print("crawling", flush=True)
    time.sleep(60)
    """
)


def test_a_crawl_child_stops_cleanly_when_its_daemon_is_killed() -> None:
    import os
    import signal
    import subprocess

    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    env = {**os.environ, "NEWSMON_DAEMON_PID": str(daemon.pid)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_OF_A_DAEMON], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "crawling"
        daemon.send_signal(signal.SIGKILL)  # kill -9: no chance to stop its children
        daemon.wait()
        out, _ = child.communicate(timeout=10)
        assert out.strip() == "interrupted"  # the crawl's Ctrl-C path: a clean stop
        assert child.returncode == 0
    finally:
        for process in (daemon, child):
            if process.poll() is None:
                process.kill()


def test_a_pipeline_folder_in_the_daemons_directory_does_not_replace_newsmon(
    tmp_path: Path,
) -> None:
    import subprocess

    fake = tmp_path / "pipeline"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("print('an old checkout')")
    argv = [*crawl_command(Path("/tmp/c.toml"), ["A"], "due", 7)[:4], "--version"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "an old checkout" not in done.stdout
    assert "newsmon" in done.stdout.lower()
