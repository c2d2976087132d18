"""``newsmon demo``: serve the bundled outlets on loopback and crawl them into a local file."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from pipeline.config import load_config
from pipeline.crawl import CrawlOptions, run_crawl
from pipeline.demo.samples import demo_config_toml, demo_sites
from pipeline.demo.server import OutletServer
from pipeline.render import console, print_crawl_summary
from storage.db import make_engine, make_session_factory
from storage.export import articles_per_outlet, recent_articles
from storage.runs import fetch_errors, outlet_messages, run_summary


def run_demo(database: Path, *, log_level: str = "WARNING") -> None:
    """Crawl the demo outlets once; offline, nothing leaves 127.0.0.0/8."""
    database = database.resolve()
    _remove_previous(database)
    url = f"sqlite:///{database}"
    sites = demo_sites()
    with OutletServer(sites) as server, tempfile.TemporaryDirectory() as workdir:
        config_path = Path(workdir) / "newsmon.toml"
        config_path.write_text(demo_config_toml(server, url), encoding="utf-8")
        config = load_config(config_path)
        click.echo(
            f"Serving {len(sites)} demo outlets on 127.0.0.x:{server.port}; "
            f"crawling into {database}",
            err=True,
        )
        run_id = run_crawl(
            config,
            url,
            CrawlOptions(
                progress_interval=2.0 if sys.stderr.isatty() else 0.0, log_level=log_level
            ),
        )
    _report(url, run_id, database)


def _remove_previous(database: Path) -> None:
    """Each demo starts fresh: the outlets get a new port, hence new URLs, every run."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def _report(url: str, run_id: int, database: Path) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            print_crawl_summary(
                run_summary(session, run_id),
                fetch_errors(session, run_id),
                outlet_messages(session, run_id),
            )
            console.print("\nStored articles per outlet:")
            for name, count in articles_per_outlet(session):
                console.print(f"  {name}: {count}", markup=False)
            console.print("\nLatest articles:")
            for article in recent_articles(session, limit=8):
                console.print(
                    f"  {article.id:>4}  {article.outlet.name:<16} {article.title}", markup=False
                )
            sample = recent_articles(session, limit=1)
    finally:
        engine.dispose()
    db = f"sqlite:///{database}"
    first = sample[0].id if sample else 1
    console.print("\nTry:", style="bold")
    for command in (
        f"newsmon --db {db} search 'duvet OR Europa'",
        f"newsmon --db {db} show {first}",
        f"newsmon --db {db} export --format jsonl --output demo.jsonl",
    ):
        console.print(f"  {command}", markup=False)
