"""Commands that read articles: ``search``, ``show``, ``diff``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.app import (
    AppContext,
    UserError,
    cli,
    open_session,
    parse_date,
)
from pipeline.render import print_article, print_search_hits, print_versions
from pipeline.urls import article_url, canonicalize_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models import Article, Version


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

    with open_session(app) as session:
        hits = search_articles(
            session,
            query,
            outlets=outlets,
            story=story,
            since=parse_date(since, "--since"),
            until=parse_date(until, "--until", end_of_day=True),
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
        "removed_at": hit.removed_at.isoformat() if hit.removed_at else None,
    }


@cli.command()
@click.argument("ref", metavar="ID|URL")
@click.option("--version", "version_number", type=int, help="Show this version (default: latest).")
@click.option("--versions", "list_versions", is_flag=True, help="List the article's versions.")
@click.option("--json", "as_json", is_flag=True, help="The article's export record as JSON.")
@click.pass_obj
def show(
    app: AppContext, ref: str, version_number: int | None, list_versions: bool, as_json: bool
) -> None:
    """Show one article (by id or any of its URLs) with its text or its versions.

    \b
    Example:
        newsmon show 12
        newsmon show 12 --versions
        newsmon show https://www.axios.com/2023/11/13/state-department-dissent-memo
    """
    from storage.export import article_record
    from storage.repository import version_content

    with open_session(app) as session:
        article = find_article_or_fail(session, ref)
        if as_json:
            click.echo(json.dumps(article_record(article), ensure_ascii=False, indent=2))
            return
        if list_versions:
            print_versions(article)
            return
        version = pick_version(article, version_number)
        print_article(article, version, version_content(session, version)[0])


@cli.command()
@click.argument("ref", metavar="ID|URL")
@click.option("--from", "from_number", type=int, help="Older version (default: the one before).")
@click.option("--to", "to_number", type=int, help="Newer version (default: the latest).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text",
    show_default=True,
)  # fmt: skip
@click.pass_obj
def diff(
    app: AppContext, ref: str, from_number: int | None, to_number: int | None, fmt: str
) -> None:
    """Word-level diff between two versions of an article.

    \b
    Example:
        newsmon diff 12
        newsmon diff 12 --from 1 --to 3 --format html > change.html
    """
    from pipeline.diffrender import render_html, render_text, to_json
    from pipeline.diffs import VersionText, diff_versions
    from pipeline.repeated_lines import comparable_text, outlet_rule
    from storage.repository import version_content

    with open_session(app) as session:
        article = find_article_or_fail(session, ref)
        newer = pick_version(article, to_number)
        if len(article.versions) < 2:
            raise UserError(f"article {article.id} has only one version: nothing to compare")
        if from_number is None and newer.number == 1:
            raise UserError("version 1 is the first: nothing before it to compare (try --to 2)")
        older = pick_version(article, from_number if from_number is not None else newer.number - 1)
        if older.number >= newer.number:
            raise UserError("--from must be an older version than --to")
        rule = outlet_rule(session, article.outlet.name)
        sides = [
            VersionText(
                v.title,
                comparable_text(version_content(session, v)[0], rule),
                tuple(v.authors or ()),
            )
            for v in (older, newer)
        ]
    result = diff_versions(*sides)
    if fmt == "json":
        click.echo(json.dumps(to_json(result, older.number, newer.number), ensure_ascii=False))
    elif fmt == "html":
        click.echo(render_html(result))
    else:
        click.echo(render_text(result, color=sys.stdout.isatty()))


def find_article_or_fail(session: Session, ref: str) -> Article:
    """The article an id or any of its URLs names: URL variants (tracking parameters, AMP and
    mobile pages) as the crawler maps them, and the id of an article merged into another."""
    from storage.repository import merged_into, resolve_article

    article = resolve_article(session, ref)
    if article is None and "://" in ref:
        article = resolve_article(session, canonicalize_url(ref)) or resolve_article(
            session, article_url(ref)
        )
    if article is None and ref.strip().isdigit():
        survivor = merged_into(session, int(ref))
        if survivor is not None:
            click.echo(f"article {ref.strip()} was merged into article {survivor}", err=True)
            article = resolve_article(session, str(survivor))
    if article is None:
        raise UserError(f"no article {ref!r} (give an id or a URL; try `newsmon search`)")
    return article


def pick_version(article: Article, number: int | None) -> Version:
    versions = {v.number: v for v in article.versions}
    if not versions:
        raise UserError(f"article {article.id} has no stored version")
    if number is None:
        return versions[max(versions)]
    if number not in versions:
        raise UserError(f"article {article.id} has no version {number} (it has 1-{max(versions)})")
    return versions[number]
