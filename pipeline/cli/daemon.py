"""Commands of the background crawler: ``run`` and ``status``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from pipeline.cli.app import AppContext, UserError, cli, display_url, open_session


@cli.command()
@click.option(
    "--lock-ttl",
    type=click.IntRange(3, 3600),
    default=60,
    show_default=True,
    help="Seconds without a heartbeat after which this daemon's lock may be taken over.",
)
@click.pass_obj
def run(app: AppContext, lock_ttl: int) -> None:
    """Crawl on a schedule, in the foreground, until stopped.

    Polls every outlet at its interval, rechecks due articles and runs maintenance; every
    crawl is a child process with a time limit. One `newsmon run` per database. SIGHUP
    reloads the config; SIGTERM or SIGINT stops cleanly (exit status 0).

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml run
        kill -HUP PID     # reload the config (PID: see `newsmon status`)
    """
    from pipeline.daemon import DaemonOptions, run_daemon
    from pipeline.runlock import DaemonLockHeld

    config = app.config(required=True)
    if not config.outlets:
        raise UserError(f"{config.path}: outlets: no outlets configured")
    try:
        code = run_daemon(
            config.path, app.database_url(), DaemonOptions(lock_ttl=lock_ttl, verbose=app.verbose)
        )
    except DaemonLockHeld as exc:
        raise UserError(str(exc)) from None
    sys.exit(code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_obj
def status(app: AppContext, as_json: bool) -> None:
    """Show whether `newsmon run` is up, its jobs, each outlet's last crawl and totals.

    \b
    Example:
        newsmon status
        newsmon status --json | jq '.outlets[] | {name, status: .last_run.status}'
    """
    from pipeline.status import status_lines, status_record

    config = app.config()
    url = app.database_url()
    now = datetime.now(UTC)
    with open_session(app) as session:
        record = status_record(
            session,
            database=display_url(url),
            outlets=[o.name for o in config.outlets],
            now=now,
        )
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    for line in status_lines(record, now):
        click.echo(line)
