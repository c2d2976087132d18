"""Soak test of ``newsmon run``: hundreds of crawl cycles, the parent's memory and descriptors.

Usage (from the repo root, with the project installed: ``pip install -e .``)::

    python bench/soak.py                          # 200 cycles, 2 outlets polled every second
    python bench/soak.py --cycles 50 --interval 2
    python bench/soak.py --db postgresql://postgres@127.0.0.1/newsmon_soak

Two bundled demo outlets (six real article pages each, packaged with newsmon, so no corpus is
needed) are served on 127.0.0.40 and up; ``newsmon run`` polls each every ``--interval``
seconds, so a cycle is one crawl child of about 1-2 s. Every two seconds the script samples the
daemon's RSS, open file descriptors and threads (``/proc/<pid>``) and counts the crawls started
(``crawl started`` log lines). After ``--cycles`` crawls it stops the daemon with SIGTERM and
checks that every cycle left a closed crawl-run row. Prints a markdown report and writes it to
``bench/results/soak.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import func, select

from pipeline.demo.samples import (
    DEMO_OPTIONS,
    DEMO_USER_AGENT,
    config_toml,
    demo_sites,
    outlet_entry,
)
from pipeline.demo.server import OutletServer
from storage.db import make_engine, make_session_factory
from storage.models import CrawlRun

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_FILE = REPO_ROOT / "bench" / "results" / "soak.md"
STARTED = re.compile(r"crawl started \(run (\d+), pid (\d+)\)")
SAMPLE_EVERY = 2.0
BASELINE_CYCLE = 20


@dataclass(frozen=True)
class Sample:
    elapsed: float
    cycles: int
    rss_kb: int
    fds: int
    threads: int


def proc_status(pid: int) -> tuple[int, int]:
    """(VmRSS in kB, threads) of ``pid`` from /proc."""
    rss = threads = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def write_config(path: Path, server: OutletServer, db_url: str, interval: float) -> None:
    names = [site.name for site in server.sites]
    entries = [outlet_entry(n, server.base_url(n), DEMO_OPTIONS[n]) for n in names]
    text = config_toml(db_url, entries, user_agent=DEMO_USER_AGENT)
    text = text.replace("[crawl]\n", f'[crawl]\ninterval = "{interval}s"\n', 1)
    text += (
        "\n[run]\n"
        'jitter = "0s"\n'
        'recheck_interval = "1m"\n'
        'maintenance_interval = "2m"\n'
        'crawl_time_limit = "60s"\n'
        'grace_period = "10s"\n'
        'misfire_grace = "1m"\n'
        'log_file = "soak.log"\n'
    )
    path.write_text(text, encoding="utf-8")


def daemon_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("NEWSMON_DATABASE_URL", None)
    return env


def count_cycles(log_file: Path) -> int:
    return len(STARTED.findall(log_file.read_text(encoding="utf-8"))) if log_file.exists() else 0


def soak(
    db_url: str, workdir: Path, cycles: int, interval: float, outlets: int
) -> dict[str, object]:
    """Run the daemon until ``cycles`` crawls have started; returns the measurements."""
    sites = demo_sites(address_base=40)[:outlets]
    config = workdir / "newsmon.toml"
    log_file = workdir / "soak.log"
    samples: list[Sample] = []
    with OutletServer(sites) as server:
        write_config(config, server, db_url, interval)
        started = time.monotonic()
        daemon = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "stderr.txt").open("w"),
            env=daemon_env(),
        )
        try:
            while daemon.poll() is None:
                done = count_cycles(log_file)
                rss, threads = proc_status(daemon.pid)
                if rss == 0:  # not started yet
                    time.sleep(0.2)
                    continue
                samples.append(
                    Sample(time.monotonic() - started, done, rss, open_fds(daemon.pid), threads)
                )
                print(
                    f"  {samples[-1].elapsed:6.0f}s  cycles {done:4d}  rss {rss / 1024:6.1f} MB"
                    f"  fds {samples[-1].fds:3d}  threads {threads:3d}",
                    file=sys.stderr,
                    flush=True,
                )
                if done >= cycles:
                    break
                time.sleep(SAMPLE_EVERY)
        finally:
            daemon.send_signal(signal.SIGTERM)
            exit_status = daemon.wait(120)
        elapsed = time.monotonic() - started
    return {
        "samples": samples,
        "exit_status": exit_status,
        "elapsed": elapsed,
        "cycles_started": count_cycles(log_file),
        "runs": run_statuses(db_url),
        "log": log_file.read_text(encoding="utf-8"),
    }


def run_statuses(db_url: str) -> Counter[str]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(select(CrawlRun.status, func.count()).group_by(CrawlRun.status))
            statuses: Counter[str] = Counter({status: int(n) for status, n in rows})
            open_runs = session.scalar(
                select(func.count()).select_from(CrawlRun).where(CrawlRun.finished_at.is_(None))
            )
            statuses["(not closed)"] = int(open_runs or 0)
            return statuses
    finally:
        engine.dispose()


def report(result: dict[str, object], args: argparse.Namespace, db_label: str) -> str:
    samples: list[Sample] = result["samples"]  # type: ignore[assignment]
    runs: Counter[str] = result["runs"]  # type: ignore[assignment]
    log = str(result["log"])
    baseline = next((s for s in samples if s.cycles >= BASELINE_CYCLE), samples[0])
    after = [s for s in samples if s.cycles >= BASELINE_CYCLE] or samples
    last = samples[-1]
    growth = (last.rss_kb - baseline.rss_kb) / baseline.rss_kb * 100
    recorded = sum(n for status, n in runs.items() if status != "(not closed)")
    started = int(result["cycles_started"])  # type: ignore[call-overload]
    failures = Counter(
        m.group(1) for m in re.finditer(r"crawl failed \(run \d+, [\d.]+s\): (.*)", log)
    )
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(runs.items()) if k != "(not closed)")
    rss_after = [s.rss_kb / 1024 for s in after]
    per_minute = started / (float(result["elapsed"]) / 60)  # type: ignore[arg-type]
    lines = [
        "# Soak: `newsmon run`",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on Python {platform.python_version()}, "
        f"APScheduler {version('apscheduler')}, Scrapy {version('scrapy')}, "
        f"SQLAlchemy {version('sqlalchemy')}; {os.cpu_count()} cores. Database: {db_label}.",
        f"{args.outlets} bundled demo outlets (6 articles each) polled every {args.interval:g} s; "
        f"`python bench/soak.py --cycles {args.cycles} --interval {args.interval:g}`.",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| crawl cycles started (child processes) | {started} |",
        f"| crawl-run rows recorded | {recorded} |",
        f"| runs left open after the stop | {runs['(not closed)']} |",
        f"| run statuses | {statuses} |",
        f"| wall time | {float(result['elapsed']) / 60:.1f} min ({per_minute:.0f} cycles/min) |",  # type: ignore[arg-type]
        f"| parent RSS at cycle {baseline.cycles} | {baseline.rss_kb / 1024:.1f} MB |",
        f"| parent RSS at cycle {last.cycles} (end) | {last.rss_kb / 1024:.1f} MB |",
        f"| RSS growth, cycle {baseline.cycles} to end | {growth:+.1f}% |",
        f"| parent RSS min / max after cycle {BASELINE_CYCLE} | "
        f"{min(rss_after):.1f} / {max(rss_after):.1f} MB |",
        f"| open fds min / max after cycle {BASELINE_CYCLE} | "
        f"{min(s.fds for s in after)} / {max(s.fds for s in after)} |",
        f"| threads min / max after cycle {BASELINE_CYCLE} | "
        f"{min(s.threads for s in after)} / {max(s.threads for s in after)} |",
        f"| daemon exit status after SIGTERM | {result['exit_status']} |",
        "",
    ]
    if failures:
        lines += ["Failed runs by reason (from the daemon log):", ""]
        lines += [f"- {reason}: {count}" for reason, count in failures.most_common()]
        lines.append("")
    locked = log.count("database is locked")
    lines.append(f'Child log lines mentioning "database is locked": {locked}.')
    lines += ["", "Samples (every ~10th):", "", "| s | cycles | RSS MB | fds | threads |"]
    lines.append("| ---: | ---: | ---: | ---: | ---: |")
    for sample in [*samples[:: max(1, len(samples) // 15)], last]:
        lines.append(
            f"| {sample.elapsed:.0f} | {sample.cycles} | {sample.rss_kb / 1024:.1f} | "
            f"{sample.fds} | {sample.threads} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200, help="crawls to run (default 200)")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument("--outlets", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsmon-soak-") as tmp:
        workdir = Path(tmp)
        db_url = args.db or f"sqlite:///{workdir / 'soak.db'}"
        label = "PostgreSQL" if db_url.startswith("postgres") else "SQLite (WAL)"
        result = soak(db_url, workdir, args.cycles, args.interval, args.outlets)
        text = report(result, args, label)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
