"""The ``newsmon`` command line: thin click commands over the library.

User errors (bad config, bad arguments, bad query, unknown article) exit with status 2 and one
line on stderr; anything else unexpected exits with status 1.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from pipeline import __version__
from pipeline.config import Config, ConfigError, load_config, resolve_config_path
from pipeline.render import console, print_article, print_crawl_summary, print_search_hits
from pipeline.urls import canonicalize_url
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
    _config: Config | None = field(default=None, init=False)

    def config(self, *, required: bool = False) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, missing_ok=not required)
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


class NewsmonGroup(click.Group):
    """Turns library errors into exit codes and one-line messages (no tracebacks)."""

    def invoke(self, ctx: click.Context) -> Any:
        from pipeline.crawl import CrawlFailed
        from storage.query import QuerySyntaxError

        try:
            return super().invoke(ctx)
        except (ConfigError, DatabaseUrlError, QuerySyntaxError) as exc:
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
    ctx.obj = AppContext(resolve_config_path(config_path), db_url, verbose)


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
    click.echo(f"Database ready: {_display_url(url)}")


@cli.command()
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet (repeatable).")
@click.option(
    "--recheck",
    type=click.Choice(["due", "all", "none"]),
    default="due",
    show_default=True,
    help="Which known articles to fetch again.",
)
@click.pass_obj
def crawl(app: AppContext, outlets: tuple[str, ...], recheck: str) -> None:
    """Crawl every configured outlet once: discover, fetch, extract and store.

    Exits 0 even when some outlets fail; their errors are recorded and summarised.

    \b
    Example:
        newsmon crawl --outlet Axios --outlet Politico
    """
    from pipeline.crawl import CrawlOptions, run_crawl

    config = app.config(required=True)
    if not config.outlets:
        raise UserError(f"{config.path}: outlets: no outlets configured")
    names = tuple(config.outlet(name).name for name in outlets)
    url = app.database_url()
    options = CrawlOptions(
        outlets=names,
        recheck=recheck,
        progress_interval=5.0 if sys.stderr.isatty() or app.verbose else 0.0,
        log_level=_log_level(app.verbose),
    )
    chosen = names or tuple(o.name for o in config.outlets)
    click.echo(f"Crawling {len(chosen)} outlet(s) into {_display_url(url)} …", err=True)
    run_id = run_crawl(config, url, options)
    _print_run(url, run_id)


def _print_run(url: str, run_id: int) -> None:
    from storage.repository import fetch_errors, run_summary

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            print_crawl_summary(run_summary(session, run_id), fetch_errors(session, run_id))
    finally:
        engine.dispose()


@cli.command()
@click.argument("query")
@click.option("--outlet", "outlets", multiple=True, help="Only articles of this outlet.")
@click.option("--story", help="Only articles of this story.")
@click.option("--since", type=str, help="Published (or first seen) on or after this date.")
@click.option("--until", type=str, help="Published (or first seen) on or before this date.")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def search(
    app: AppContext,
    query: str,
    outlets: tuple[str, ...],
    story: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search over titles and texts.

    Words are ANDed; "exact phrase"; AND, OR, NOT; parentheses; prefix*.

    \b
    Example:
        newsmon search '"State Department" AND (memo OR cable)' --since 2023-11-01
    """
    from storage.search import search_articles

    with _session(app) as session:
        hits = search_articles(
            session,
            query,
            outlets=outlets,
            story=story,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until", end_of_day=True),
            limit=limit,
        )
    if as_json:
        for hit in hits:
            click.echo(json.dumps(_hit_record(hit), ensure_ascii=False))
        return
    print_search_hits(hits)


def _hit_record(hit: Any) -> dict[str, Any]:
    return {
        "id": hit.article_id,
        "outlet": hit.outlet,
        "url": hit.url,
        "title": hit.title,
        "published_at": hit.published_at.isoformat() if hit.published_at else None,
        "snippet": hit.snippet,
        "score": round(hit.score, 4),
    }


@cli.command()
@click.argument("ref", metavar="ID|URL")
@click.option("--version", "version_number", type=int, help="Show this version (default: latest).")
@click.option("--json", "as_json", is_flag=True, help="The article's export record as JSON.")
@click.pass_obj
def show(app: AppContext, ref: str, version_number: int | None, as_json: bool) -> None:
    """Show one article (by id or any of its URLs) with its text.

    \b
    Example:
        newsmon show 12
        newsmon show https://www.axios.com/2023/11/13/state-department-dissent-memo
    """
    from storage.repository import article_record, get_version, latest_version, resolve_article

    with _session(app) as session:
        article = resolve_article(session, ref)
        if article is None and "://" in ref:
            article = resolve_article(session, canonicalize_url(ref))
        if article is None:
            raise UserError(f"no article {ref!r} (give an id or a URL; try `newsmon search`)")
        if as_json:
            click.echo(json.dumps(article_record(article), ensure_ascii=False, indent=2))
            return
        if version_number is None:
            version = latest_version(session, article.id)
        else:
            version = get_version(session, article.id, version_number)
            if version is None:
                count = len(article.versions)
                raise UserError(
                    f"article {article.id} has no version {version_number} (it has {count})"
                )
        print_article(article, version)


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write here instead of stdout.",
)
@click.pass_obj
def export(app: AppContext, fmt: str, output: str | None) -> None:
    """Export every article with its versions.

    \b
    Example:
        newsmon export --format jsonl --output articles.jsonl
    """
    from storage.repository import article_record, iter_articles

    target = Path(output) if output else None
    partial = target.with_name(target.name + ".partial") if target else None
    stream = partial.open("w", encoding="utf-8", newline="") if partial else sys.stdout
    count = 0
    try:
        with _session(app) as session:
            records = (article_record(a) for a in iter_articles(session))
            count = _write_records(records, fmt, stream)
    finally:
        if partial is not None:
            stream.close()
    if partial is not None and target is not None:
        partial.replace(target)
        click.echo(f"Exported {count} articles to {target}", err=True)


CSV_COLUMNS = ["id", "outlet", "url", "title", "authors", "published_at", "first_seen_at",
               "last_checked_at", "language", "aliases", "removed_at", "duplicate_of", "stories",
               "versions", "text"]  # fmt: skip


def _write_records(records: Iterator[dict[str, Any]], fmt: str, stream: IO[str]) -> int:
    count = 0
    if fmt == "jsonl":
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        versions = record["versions"]
        row = dict(record)
        row.update(
            authors="; ".join(record["authors"]),
            aliases=" ".join(record["aliases"]),
            stories="; ".join(record["stories"]),
            versions=len(versions),
            text=versions[-1]["text"] if versions else "",
        )
        writer.writerow(row)
        count += 1
    return count


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", help="The page's original URL (resolves relative links, canonical).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def extract(paths: tuple[str, ...], url: str | None, as_json: bool) -> None:
    """Extract saved HTML files (no database, no network).

    \b
    Example:
        newsmon extract page.html --url https://example.org/news/1 --json
    """
    from pipeline.extraction import ExtractionFailed, extract_article

    failed = 0
    for path in paths:
        try:
            article = extract_article(Path(path).read_bytes(), url=url)
        except ExtractionFailed as exc:
            failed += 1
            click.echo(f"newsmon: {path}: no article: {exc.reason}", err=True)
            if as_json:
                click.echo(json.dumps({"path": path, "error": exc.reason}))
            continue
        if as_json:
            click.echo(json.dumps(_extract_record(path, article), ensure_ascii=False))
        else:
            click.echo(f"== {path}\n# {article.title}\n")
            click.echo(article.text + "\n")
    if failed:
        sys.exit(1)


def _extract_record(path: str, article: Any) -> dict[str, Any]:
    return {
        "path": path,
        "title": article.title,
        "text": article.text,
        "authors": article.authors,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "modified_at": article.modified_at.isoformat() if article.modified_at else None,
        "language": article.language,
        "site_name": article.site_name,
        "canonical_url": article.canonical_url,
        "description": article.description,
    }


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

    run_demo(Path(demo_db), log_level=_log_level(app.verbose))


# --- helpers ---------------------------------------------------------------------------------


class _session:
    """A read session on an existing, migrated database (user error otherwise)."""

    def __init__(self, app: AppContext) -> None:
        self.url = app.database_url()

    def __enter__(self) -> Any:
        from storage.migrate import current_revision

        self.engine = make_engine(self.url)
        if current_revision(self.engine) is None:
            self.engine.dispose()
            raise UserError(
                f"no newsmon database at {_display_url(self.url)} "
                "(run `newsmon init` or `newsmon crawl` first, or pass --db)"
            )
        self.session = make_session_factory(self.engine)()
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()
        self.engine.dispose()


def _parse_date(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{option}: not a date: {value!r} (use YYYY-MM-DD)") from None
    if end_of_day and len(value) <= 10:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _log_level(verbose: int) -> str:
    return {0: "ERROR", 1: "INFO"}.get(verbose, "DEBUG")


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def main() -> None:  # pragma: no cover - console entry point alias
    cli()


__all__ = ["cli", "console"]
