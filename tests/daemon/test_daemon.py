"""`newsmon run` as a real subprocess, polling local outlets every few seconds.

One daemon runs through the module, in order: articles and versions appear over time; status;
a second instance is refused; a crawl child killed with -9 becomes a failed run and the next run
succeeds; SIGHUP rejects a broken config and starts polling a new outlet; SIGTERM during a crawl
leaves the database consistent; a restart keeps the schedule, takes over a stale lock and does
not burst. Outlets are built from corpus pages: Quick, Changing (its article text changes on
every request, so each recheck makes a version), Slow (article pages can be made to take 1.5 s)
and Late (configured only by the SIGHUP test).
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exists, func, select

from pipeline.demo.samples import OutletEntry, config_toml, outlet_entry
from pipeline.demo.server import OutletServer, RequestInfo, Route
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site, guess_title
from storage.db import make_engine, make_session_factory
from storage.locks import RUN_LOCK
from storage.models import (
    Article,
    CrawlRun,
    CrawlRunOutlet,
    DaemonLock,
    Outlet,
    Version,
)
from storage.repository import version_content

POLL_SECONDS = 4  # every outlet's poll interval in these tests

pytestmark = pytest.mark.e2e

USER_AGENT = "newsmon-tests (+https://example.org/bot)"
ADDRESSES = {"Quick": "127.0.0.31", "Changing": "127.0.0.32", "Slow": "127.0.0.33"}
ADDRESSES["Late"] = "127.0.0.34"
PAGES = {  # extraction-bench page id prefixes that extract cleanly
    "Quick": ["c467d507", "961bd85c"],
    "Changing": ["7de52419"],
    "Slow": ["c7e39ac4", "92101975", "0d461229"],
    "Late": ["70cb2d5b"],
}
OPTIONS = SiteOptions(rss=True)
SLOW_SECONDS = 1.5
RUN_SETTINGS = """
[versions]
schedule = [["1d", "1s"]]

[run]
jitter = "0.5s"
recheck_interval = "5s"
maintenance_interval = "10m"
crawl_time_limit = "60s"
grace_period = "8s"
misfire_grace = "1m"
log_file = "daemon.log"
"""
LOCK_TTL = ("--lock-ttl", "15")
STARTED = re.compile(r"outlet=(\S+) crawl started \(run (\d+), pid (\d+)\)")


# --- local outlets ---------------------------------------------------------------------------


@dataclass
class Outlets:
    server: OutletServer
    slow: threading.Event  # set: Slow's article pages take SLOW_SECONDS each
    arrivals: list[float]  # when Slow's article requests arrived while slow was set

    def entry(self, name: str) -> OutletEntry:
        return outlet_entry(name, self.server.base_url(name), OPTIONS)

    def slow_article_in_flight(self, since: float) -> bool:
        """A request for a Slow article arrived after ``since`` and is still being answered."""
        now = time.time()
        return any(since <= at and now - at < SLOW_SECONDS / 2 for at in list(self.arrivals))


def corpus_pages(corpus: Path, prefixes: list[str]) -> list[tuple[SourcePage, str]]:
    bench = corpus / "extraction-bench"
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    now = datetime.now(UTC).replace(microsecond=0)
    pages = []
    for hours, prefix in enumerate(prefixes, start=1):
        (page_id,) = [key for key in truth if key.startswith(prefix)]
        html = gzip.decompress((bench / "html" / f"{page_id}.html.gz").read_bytes()).decode()
        page = SourcePage(
            html, truth[page_id]["url"], guess_title(html), now - timedelta(hours=hours)
        )
        pages.append((page, truth[page_id]["articleBody"]))
    return pages


def slowed(
    handler: Any, slow: threading.Event, arrivals: list[float]
) -> Callable[[RequestInfo], Route]:
    def respond(request: RequestInfo) -> Route:
        if slow.is_set():
            arrivals.append(time.time())
            time.sleep(SLOW_SECONDS)
        return handler(request)  # type: ignore[no-any-return]

    return respond


def changing(handler: Any, body_text: str) -> Callable[[RequestInfo], Route]:
    """Each response appends a new sentence after one the extractor keeps (no validators)."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", body_text) if 40 <= len(s) <= 240]
    count = itertools.count(1)

    def respond(request: RequestInfo) -> Route:
        route: Route = handler(request)
        html = route.body.decode("utf-8")
        marker = next(s for s in sentences if s in html)
        update = f"{marker} Update {next(count)}: officials revised the figures again today."
        body = html.replace(marker, update, 1).encode("utf-8")
        return Route(body, route.content_type, route.status, headers={})

    return respond


def build_outlets(corpus: Path) -> Outlets:
    slow, arrivals = threading.Event(), []
    sites = []
    for name, prefixes in PAGES.items():
        pages = corpus_pages(corpus, prefixes)
        site = build_site(name, ADDRESSES[name], [page for page, _ in pages], OPTIONS)
        for page, body in pages:
            if name == "Changing":
                site.routes[page.path] = changing(site.routes[page.path], body)
            elif name == "Slow":
                site.routes[page.path] = slowed(site.routes[page.path], slow, arrivals)
        sites.append(site)
    server = OutletServer(sites)
    server.start()
    return Outlets(server, slow, arrivals)


# --- the daemon ------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("NEWSMON_DATABASE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def newsmon(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
    )


class Daemon:
    """A ``newsmon run`` subprocess and its log file."""

    def __init__(self, config: Path, *extra: str) -> None:
        self.workdir = config.parent
        self.stderr = (self.workdir / "stderr.txt").open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), *extra, "run", *LOCK_TTL],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            env=child_env(),
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        path = self.workdir / "daemon.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def wait_log(self, text: str, timeout: float = 30, after: int = 0) -> None:
        wait_until(lambda: text in self.log()[after:], timeout, f"log line {text!r}")

    def crawls(self) -> list[tuple[set[str], int, int]]:
        """(outlets, run id, pid) of every crawl started, from the log."""
        return [
            (set(m.group(1).strip('"').split(",")), int(m.group(2)), int(m.group(3)))
            for m in STARTED.finditer(self.log())
        ]

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.stderr.close()

    def kill(self) -> None:
        """Teardown: a clean stop if possible (it stops the crawl children too), else -9."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.stderr.close()


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Scenario:
    outlets: Outlets
    config: Path
    db_url: str
    daemon: Daemon
    sessions: Any

    def write_config(self, names: list[str]) -> None:
        entries = [self.outlets.entry(name) for name in names]
        text = config_toml(self.db_url, entries, user_agent=USER_AGENT)
        text = text.replace(
            "[crawl]\n", f'[crawl]\ninterval = "{POLL_SECONDS}s"\nretry_backoff = "0.1s"\n', 1
        )
        self.config.write_text(text + RUN_SETTINGS, encoding="utf-8")

    def runs_of(self, outlet: str) -> list[CrawlRun]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(CrawlRun)
                    .join(CrawlRunOutlet, CrawlRunOutlet.run_id == CrawlRun.id)
                    .join(Outlet, Outlet.id == CrawlRunOutlet.outlet_id)
                    .where(Outlet.name == outlet)
                    .order_by(CrawlRun.id)
                )
            )

    def run(self, run_id: int) -> CrawlRun | None:
        with self.sessions() as session:
            return session.get(CrawlRun, run_id)

    def count(self, model: Any, outlet: str | None = None) -> int:
        with self.sessions() as session:
            query = select(func.count()).select_from(model)
            if outlet is not None:
                if model is Version:
                    query = query.join(Article, Article.id == Version.article_id)
                query = query.join(Outlet, Outlet.id == Article.outlet_id).where(
                    Outlet.name == outlet
                )
            return int(session.scalar(query) or 0)

    def slow_crawl_in_progress(self, timeout: float = 40) -> tuple[int, int]:
        """(run id, pid) of a running crawl of Slow that is fetching an article right now."""

        def find() -> tuple[int, int] | None:
            for names, run_id, pid in reversed(self.daemon.crawls()):
                run = self.run(run_id) if "Slow" in names else None
                if (
                    run is not None
                    and run.finished_at is None
                    and self.outlets.slow_article_in_flight(run.started_at.timestamp())
                ):
                    return run_id, pid
            return None

        found: tuple[int, int] = wait_until(find, timeout, "a crawl of Slow fetching an article")
        return found


@pytest.fixture(scope="module")
def scenario(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    workdir = tmp_path_factory.mktemp("daemon")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    outlets = build_outlets(shared_corpus)
    engine = make_engine(db_url)
    config = workdir / "newsmon.toml"
    placeholder = Daemon.__new__(Daemon)
    state = Scenario(outlets, config, db_url, placeholder, make_session_factory(engine))
    state.write_config(["Quick", "Changing", "Slow"])
    state.daemon = Daemon(config)
    try:
        yield state
    finally:
        state.daemon.kill()
        outlets.server.stop()
        engine.dispose()


# --- the tests, in order -----------------------------------------------------------------------


def test_articles_and_versions_appear_over_time(scenario: Scenario) -> None:
    scenario.daemon.wait_log("newsmon run started: 3 outlet(s)", timeout=30)
    wait_until(lambda: scenario.count(Version, "Changing") >= 1, 30, "a first version")
    first = scenario.count(Version, "Changing")
    wait_until(lambda: scenario.count(Version, "Changing") > first, 30, "a later version")
    wait_until(lambda: scenario.count(Article, "Slow") == 3, 30, "Slow's articles")
    # Quick's crawls run beside Slow's, in their own processes: on a loaded machine its first
    # crawl may still be storing when Slow's third article lands
    wait_until(lambda: scenario.count(Article, "Quick") >= 2, 30, "Quick's articles")
    assert scenario.count(Article, "Quick") == 2
    assert scenario.count(Article, "Changing") == 1  # one article, several versions
    assert all(run.status == "finished" for run in scenario.runs_of("Quick"))


def test_status_json_reports_the_daemon_jobs_and_outlets(scenario: Scenario) -> None:
    result = newsmon("--config", str(scenario.config), "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert set(status) == {"database", "daemon", "running_crawls", "jobs", "outlets", "totals"}
    daemon = status["daemon"]
    assert daemon["state"] == "up"
    assert daemon["pid"] == scenario.daemon.pid
    assert 0 <= daemon["heartbeat_age_seconds"] < 15
    assert daemon["ttl_seconds"] == 15
    jobs = {job["id"]: job["next_run_time"] for job in status["jobs"]}
    assert set(jobs) == {"poll:Quick", "poll:Changing", "poll:Slow", "recheck", "maintenance"}
    assert all(datetime.fromisoformat(when) for when in jobs.values())
    outlets = {o["name"]: o for o in status["outlets"]}
    assert set(outlets) == {"Quick", "Changing", "Slow"}
    last = outlets["Quick"]["last_run"]
    assert set(last) == {
        "run_id",
        "started_at",
        "finished_at",
        "status",
        "reason",
        "fetched",
        "new_articles",
        "new_versions",
        "errors",
        "last_error",
    }
    assert last["status"] == "finished"
    assert status["totals"]["articles"] == 6
    assert status["database"]["size_bytes"] > 0


def test_a_second_instance_is_refused(scenario: Scenario) -> None:
    result = newsmon("--config", str(scenario.config), "run", timeout=60)
    assert result.returncode == 2
    assert "another newsmon run holds this database" in result.stderr
    assert f"pid {scenario.daemon.pid} on " in result.stderr
    assert "last heartbeat" in result.stderr
    assert scenario.daemon.proc.poll() is None


def test_a_killed_crawl_child_is_a_failed_run_and_the_next_run_succeeds(
    scenario: Scenario,
) -> None:
    scenario.outlets.slow.set()
    run_id, pid = scenario.slow_crawl_in_progress()
    os.kill(pid, signal.SIGKILL)
    killed = wait_until(
        lambda: (run := scenario.run(run_id)) is not None and run.finished_at and run,
        15,
        "the killed run to be recorded",
    )
    assert (killed.status, killed.reason) == ("failed", "killed by signal 9")
    scenario.daemon.wait_log(f"crawl failed (run {run_id}")
    scenario.outlets.slow.clear()
    wait_until(
        lambda: any(r.id > run_id and r.status == "finished" for r in scenario.runs_of("Slow")),
        40,
        "a successful run of Slow after the kill",
    )


def test_sighup_rejects_a_broken_config_and_adds_a_new_outlet(scenario: Scenario) -> None:
    daemon = scenario.daemon
    mark = len(daemon.log())
    scenario.config.write_text("[crawl\n", encoding="utf-8")
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_log("config reload rejected, the previous config keeps running", after=mark)
    daemon.wait_log("crawl finished", after=mark, timeout=30)  # still crawling, old config
    assert "exit status 2" not in daemon.log()[mark:]  # children never saw the broken file

    scenario.write_config(["Quick", "Changing", "Slow", "Late"])
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_log("config reloaded: 4 outlet(s); jobs: added poll:Late", after=mark)
    wait_until(
        lambda: any(run.status == "finished" for run in scenario.runs_of("Late")),
        40,
        "a finished run of Late",
    )
    assert scenario.count(Article, "Late") == 1


def test_sigterm_during_a_crawl_leaves_the_database_consistent(scenario: Scenario) -> None:
    scenario.outlets.slow.set()
    run_id, _ = scenario.slow_crawl_in_progress()
    assert scenario.daemon.stop(timeout=30) == 0
    scenario.outlets.slow.clear()
    log = scenario.daemon.log()
    assert "stopping: no new jobs; running crawls get 8s to finish" in log
    assert "newsmon run stopped (exit status 0)" in log
    interrupted = scenario.run(run_id)
    assert interrupted is not None
    assert interrupted.status == "interrupted"  # Scrapy stopped cleanly on our SIGINT
    assert f"crawl interrupted (run {run_id}," in log  # the log says what the run says
    assert f"crawl finished (run {run_id}," not in log
    with scenario.sessions() as session:
        orphans = select(Article.id).where(~exists().where(Version.article_id == Article.id))
        assert session.scalars(orphans).all() == []
        for version in session.scalars(select(Version)):
            text, _ = version_content(session, version)
            assert text.strip()
        open_runs = select(CrawlRun).where(
            (CrawlRun.status == "running") | CrawlRun.finished_at.is_(None)
        )
        assert session.scalars(open_runs).all() == []
        assert session.get(DaemonLock, RUN_LOCK) is None


def test_a_restart_keeps_the_schedule_and_takes_over_a_stale_lock(scenario: Scenario) -> None:
    before = json.loads(newsmon("--config", str(scenario.config), "status", "--json").stdout)
    maintenance = {job["id"]: job for job in before["jobs"]}["maintenance"]["next_run_time"]
    old = datetime.now(UTC) - timedelta(hours=1)
    with scenario.sessions.begin() as session:
        session.add(
            DaemonLock(
                name=RUN_LOCK,
                holder="elsewhere:999999:dead",
                pid=999_999,
                hostname="elsewhere",
                acquired_at=old,
                heartbeat_at=old,
                ttl_seconds=60,
                info={},
            )
        )
    time.sleep(4)  # the polls (every 4 s) miss a run or two
    last_run = max(run.id for name in PAGES for run in scenario.runs_of(name))
    mark = len(scenario.daemon.log())
    scenario.daemon = Daemon(scenario.config)
    scenario.daemon.wait_log("newsmon run started: 4 outlet(s)", after=mark)
    log = scenario.daemon.log()[mark:]
    assert "took over a stale daemon lock: pid 999999 on elsewhere" in log
    assert "jobs: 6 kept their next run" in log  # 4 polls, recheck, maintenance
    time.sleep(4)  # the restarted daemon at work
    status = json.loads(newsmon("--config", str(scenario.config), "status", "--json").stdout)
    assert {job["id"]: job for job in status["jobs"]}["maintenance"]["next_run_time"] == maintenance
    assert status["daemon"]["pid"] == scenario.daemon.pid
    with scenario.sessions() as session:
        after = session.scalars(select(CrawlRun).where(CrawlRun.id > last_run)).all()
    assert after, "the restarted daemon crawls"
    # The missed polls come back as one catch-up run each, not a burst: in the first half
    # interval (regular polls are at least that far apart, jitter included) an outlet starts
    # at most its catch-up and one regular poll, however fast the crawls are.
    started = {run.id: run.started_at for run in after}
    first = min(started.values())
    per_outlet: dict[str, int] = {}
    for names, run_id, _ in scenario.daemon.crawls():
        if run_id in started and started[run_id] < first + timedelta(seconds=POLL_SECONDS / 2):
            for name in names:
                per_outlet[name] = per_outlet.get(name, 0) + 1
    assert max(per_outlet.values()) <= 2, f"a burst of catch-up runs: {per_outlet}"
    assert scenario.daemon.stop() == 0
