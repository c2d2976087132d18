"""A crawl killed with SIGKILL closes nothing: its run is shown as abandoned, then closed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.crawl import create_run
from pipeline.runlock import this_machine
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.models import CrawlRun
from storage.runs import start_run
from tests.e2e.test_crawl import run_newsmon


def test_a_run_whose_process_is_gone_is_shown_abandoned_then_closed_by_the_next_crawl(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    upgrade_database(url)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        killed = start_run(session, pid=child.pid, machine=this_machine()).id
        elsewhere = start_run(session, pid=child.pid, machine="other-host 1 2").id

    status = run_newsmon("--db", url, "status")
    assert status.returncode == 0, status.stderr
    assert f"abandoned: run {killed} (?)" in status.stdout
    assert f"crawling now: run {elsewhere} (?)" in status.stdout

    new = create_run(url)
    with make_session_factory(engine)() as session:
        runs = {run.id: run for run in session.query(CrawlRun)}
    engine.dispose()
    assert runs[killed].status == "failed"
    assert "killed or crashed" in (runs[killed].reason or "")
    assert runs[elsewhere].finished_at is None  # its pid means nothing here
    assert runs[new].finished_at is None
