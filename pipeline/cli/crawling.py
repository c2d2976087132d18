"""Commands that write: ``init``, ``crawl``, ``demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.app import (
    AppContext,
    UserError,
    cli,
    display_url,
    log_level,
)
from pipeline.render import print_crawl_summary, print_removals
from storage.db import make_engine, make_session_factory


@cli.command()
@click.pass_obj
def init(app: AppContext) -> None:
    """Create or upgrade the database schema (safe to run again).

    \b
    Example:
        newsmon --db sqlite:///news.db init
    """
    from pipeline.crawl import prepare_database

    url = app.database_url()
    prepare_database(app.config(), url)
    click.echo(f"Database ready: {display_url(url)}")


@cli.command()
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet (repeatable).")
@click.option(
    "--recheck",
    type=click.Choice(["due", "all", "none"]),
    default="due",
    show_default=True,
    help="Which known articles to fetch again.",
)
@click.option("--run-id", type=int, hidden=True, help="Adopt this crawl run (newsmon run).")
@click.pass_obj
def crawl(app: AppContext, outlets: tuple[str, ...], recheck: str, run_id: int | None) -> None:
    """Crawl every configured outlet once: discover, fetch, extract and store.

    Exits 0 even when some outlets fail; their errors are recorded and summarised.

    \b
    Example:
        newsmon crawl --outlet Axios --outlet Politico
    """
    from pipeline.prestart import warm_workers_for_new_outlets

    config = app.config(required=True)
    if not config.outlets:
        raise UserError(f"{config.path}: outlets: no outlets configured")
    names = tuple(config.outlet(name).name for name in outlets)
    url = app.database_url()
    # Before Scrapy's imports: the workers' preload then runs beside them, on another core.
    warm_workers_for_new_outlets(url, names or [o.name for o in config.outlets])
    from pipeline.crawl import CrawlOptions, run_crawl

    options = CrawlOptions(
        outlets=names,
        recheck=recheck,
        progress_interval=5.0 if sys.stderr.isatty() or app.verbose else 0.0,
        log_level=log_level(app.verbose),
    )
    chosen = names or tuple(o.name for o in config.outlets)
    click.echo(f"Crawling {len(chosen)} outlet(s) into {display_url(url)} …", err=True)
    adopted = run_id is not None
    try:
        run_id = run_crawl(config, url, options, run_id)
    except KeyboardInterrupt:  # Ctrl-C (or a stopping daemon) before Scrapy took over SIGINT
        if run_id is not None:
            from pipeline.crawl import INTERRUPTED_REASON, mark_run_failed

            mark_run_failed(url, run_id, INTERRUPTED_REASON, status="interrupted")
        click.echo("newsmon: crawl interrupted before it began", err=True)
        sys.exit(EXIT_INTERRUPTED)
    status = _print_run(url, run_id)
    if status == "interrupted" and not adopted:  # `newsmon run` reads its child's run itself
        click.echo("newsmon: crawl interrupted; what it fetched is stored", err=True)
        sys.exit(EXIT_INTERRUPTED)


EXIT_INTERRUPTED = 130  # as a shell reports a process stopped by Ctrl-C


def _print_run(url: str, run_id: int) -> str | None:
    """Print the run's summary; returns its status."""
    from storage.runs import fetch_errors, outlet_messages, removals, run_status, run_summary

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            print_crawl_summary(
                run_summary(session, run_id),
                fetch_errors(session, run_id),
                outlet_messages(session, run_id),
            )
            print_removals(removals(session, run_id))
            return run_status(session, run_id)
    finally:
        engine.dispose()


@cli.command()
@click.option(
    "--db",
    "demo_db",
    default="newsmon-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file for the demo.",
)
@click.pass_obj
def demo(app: AppContext, demo_db: str) -> None:
    """Crawl bundled sample outlets served on loopback, offline, into ./newsmon-demo.db.

    \b
    Example:
        newsmon demo && newsmon --db sqlite:///newsmon-demo.db search election
    """
    from pipeline.demo.runner import run_demo

    run_demo(Path(demo_db), log_level=log_level(app.verbose))


# --- helpers ---------------------------------------------------------------------------------
