"""Commands on files: ``export`` and ``extract``."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from pipeline.cli.app import AppContext, UserError, cli, open_session


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
    from storage.export import article_record, iter_articles

    target = Path(output) if output else None
    partial = target.with_name(target.name + ".partial") if target else None
    stream = _open_output(partial) if partial else sys.stdout
    count = 0
    done = False
    try:
        with open_session(app) as session:
            records = (article_record(a) for a in iter_articles(session))
            count = _write_records(records, fmt, stream)
        done = True
    finally:
        if partial is not None:
            stream.close()
            if not done:  # a failed export leaves neither a half file nor its .partial
                partial.unlink(missing_ok=True)
    if partial is not None and target is not None:
        partial.replace(target)
        click.echo(f"Exported {count} articles to {target}", err=True)


def _open_output(path: Path) -> IO[str]:
    """The file written to until the export is complete (then renamed), or a user error."""
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        folder = path.parent
        problem = "no such directory" if not folder.is_dir() else exc.strerror or str(exc)
        raise UserError(f"--output: cannot write to {folder}: {problem}") from None


# New columns go at the end: spreadsheets and scripts may read the columns by position.
CSV_COLUMNS = ["id", "outlet", "url", "title", "authors", "published_at", "first_seen_at",
               "last_checked_at", "language", "aliases", "removed_at", "duplicate_of", "stories",
               "versions", "text", "canonical_url", "authors_json", "stories_json",
               "latest_labels"]  # fmt: skip


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
            # the same lists, unambiguous: story names are headlines, often with a ";"
            authors_json=json.dumps(record["authors"], ensure_ascii=False),
            stories_json=json.dumps(record["stories"], ensure_ascii=False),
            latest_labels=", ".join(versions[-1]["labels"]) if versions else "",
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
