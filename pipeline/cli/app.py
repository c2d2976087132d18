"""The ``newsmon`` command group, its context and error handling.

User errors (bad config, bad arguments, bad query, unknown article) exit with status 2 and one
line on stderr; anything else unexpected exits with status 1.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from pipeline import __version__
from pipeline.config import Config, ConfigError, load_config, resolve_config_path
from storage.db import DatabaseUrlError, make_engine, make_session_factory

EXIT_USER_ERROR = 2


class UserError(click.ClickException):
    """A mistake the user can fix; printed as one line, exit status 2."""

    exit_code = EXIT_USER_ERROR

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"newsmon: error: {self.format_message()}", err=True)


@dataclass
class AppContext:
    """What every command needs: the config (parsed once) and the database URL."""

    config_path: Path
    db_option: str | None
    verbose: int
    config_named: bool = False  # --config or $NEWSMON_CONFIG: then the file must exist
    _config: Config | None = field(default=None, init=False)

    def config(self, *, required: bool = False) -> Config:
        if self._config is None:
            missing_ok = not (required or self.config_named)
            self._config = load_config(self.config_path, missing_ok=missing_ok)
        return self._config

    def database_url(self) -> str:
        url = self.db_option or os.environ.get("NEWSMON_DATABASE_URL")
        if url:
            return url
        config = self.config()
        if config.database_url:
            return _relative_to_config(config.database_url, config.path)
        return config.default_database_url()


def _relative_to_config(url: str, config_path: Path) -> str:
    """A relative SQLite path in the config file is relative to that file, not to the cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        relative = url[len(prefix) :]
        if relative and not relative.startswith(":memory:"):
            return prefix + str((config_path.parent / relative).resolve())
    return url


# Each subcommand by the module that defines it: a command's module, and what it imports, loads
# only when that command runs (or when help lists them all). A crawl starts 0.2-0.3 s sooner.
COMMAND_MODULES = {
    "init": "crawling", "crawl": "crawling", "demo": "crawling",
    "export": "files", "extract": "files",
    "search": "articles", "show": "articles", "diff": "articles",
    "run": "daemon", "status": "daemon",
    "stories": "stories", "dedupe": "stories",
}  # fmt: skip


class NewsmonGroup(click.Group):
    """Loads subcommands on demand; turns library errors into exit codes and one-line
    messages (no tracebacks)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"pipeline.cli.{COMMAND_MODULES[cmd_name]}")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from pipeline.crawl import CrawlFailed
        from storage.query import QuerySyntaxError
        from storage.search import UnknownNameError

        try:
            return super().invoke(ctx)
        except (ConfigError, DatabaseUrlError, QuerySyntaxError, UnknownNameError) as exc:
            raise UserError(str(exc)) from None
        except CrawlFailed as exc:
            _fail(str(exc))
        except OperationalError as exc:
            _fail(f"database error: {exc.orig or exc}")
        except SQLAlchemyError as exc:
            _fail(f"database error: {exc}")


def _fail(message: str) -> NoReturn:
    click.echo(f"newsmon: error: {message}", err=True)
    sys.exit(1)


@click.group(cls=NewsmonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $NEWSMON_CONFIG, else ./newsmon.toml).",
)
@click.option("--db", "db_url", help="Database URL (default: $NEWSMON_DATABASE_URL, else config).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_url: str | None, verbose: int) -> None:
    """Follow news stories across outlets and see how each article changes.

    \b
    Example:
        newsmon --config newsmon.toml crawl
        newsmon search '"dissent memo" OR ceasefire' --since 2023-11-01
    """
    named = bool(config_path or os.environ.get("NEWSMON_CONFIG"))
    ctx.obj = AppContext(resolve_config_path(config_path), db_url, verbose, config_named=named)


class open_session:
    """A read session on an existing, migrated database (user error otherwise)."""

    def __init__(self, app: AppContext) -> None:
        self.url = app.database_url()

    def __enter__(self) -> Any:
        from storage.db import sqlite_file
        from storage.migrate import HEAD_REVISION, current_revision

        missing = UserError(
            f"no newsmon database at {display_url(self.url)} "
            "(run `newsmon init` or `newsmon crawl` first, or pass --db)"
        )
        path = sqlite_file(self.url)
        if path is not None and not path.exists():
            raise missing  # a read must not create the file (or its folder) of a mistyped path
        self.engine = make_engine(self.url)
        revision = current_revision(self.engine)
        if revision is None or revision < HEAD_REVISION:
            self.engine.dispose()
            if revision is None:
                raise missing
            raise UserError(
                f"the database at {display_url(self.url)} has an older schema (revision "
                f"{revision}, this newsmon needs {HEAD_REVISION}): run `newsmon init` to upgrade it"
            )
        self.session = make_session_factory(self.engine)()
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()
        self.engine.dispose()


def parse_date(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{option}: not a date: {value!r} (use YYYY-MM-DD)") from None
    if end_of_day and len(value) <= 10:
        parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999999)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def log_level(verbose: int) -> str:
    return {0: "ERROR", 1: "INFO"}.get(verbose, "DEBUG")


def display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
