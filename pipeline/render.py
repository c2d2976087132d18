"""Terminal output of the CLI: tables and article views (rich, plain when piped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from storage.models import Article, CrawlRunOutlet, Version
    from storage.runs import FailedFetch, RunEvent

console = Console(highlight=False, soft_wrap=True)


def print_crawl_summary(
    rows: Sequence[tuple[str, CrawlRunOutlet]],
    errors: Sequence[FailedFetch],
    messages: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """The per-outlet counts, then each outlet's errors that are no failed request (a feed
    that is no feed, a listing without articles, robots.txt) and the URLs the crawl never got
    (a retry that worked is no error).

    ``messages``: each outlet's distinct error messages; without them, its last error.
    """
    table = Table(title="Crawl summary", title_justify="left")
    columns = ("outlet", "discovered", "fetched", "new articles", "new versions", "unchanged")
    for column in (*columns, "errors"):
        table.add_column(column, justify="left" if column == "outlet" else "right")
    totals = [0] * 6
    for name, row in rows:
        values = [
            row.discovered,
            row.fetched,
            row.new_articles,
            row.new_versions,
            row.unchanged,  # rechecks answered 304 or with the same content
            row.errors,
        ]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        table.add_row(name, *(str(v) for v in values), style="red" if row.errors else None)
    table.add_row("total", *(str(v) for v in totals), style="bold")
    console.print(table)
    failed = [
        (
            fetch.url,
            f"{fetch.outlet or '?'}: {fetch.url}: {fetch.error}"
            + (f" ({fetch.attempts} attempts)" if fetch.attempts > 1 else ""),
        )
        for fetch in errors[:20]
    ]
    failed_urls = {fetch.url for fetch in errors}
    explained: set[str] = set()
    others = []
    for name, row in rows:
        said = (messages or {}).get(name) or ([row.last_error] if row.last_error else [])
        for message in said:
            url = message.split(": ", 1)[0]
            if url in failed_urls and not _is_robots(url):
                continue  # a failed request: listed below, in the fetch log's words
            others.append(f"{name}: {message}")
            explained.add(url)  # a robots.txt failure: what it means, not only its status
    lines = others + [line for url, line in failed if url not in explained]
    if lines:
        console.print("Errors:", style="bold red")
        for line in lines:
            console.print(f"  {line}", markup=False)


def print_removals(events: Sequence[RunEvent]) -> None:
    """The articles this crawl found removed from their sites, or back: a watchdog's news."""
    if not events:
        return
    console.print("Removed from their sites, or back:", style="bold")
    for event in events:
        what = f"{event.kind}: {event.detail}" if event.detail else event.kind
        console.print(f"  {event.outlet}: {event.article_id} {event.url} ({what})", markup=False)


def _is_robots(url: str) -> bool:
    return url.endswith("/robots.txt")


def print_search_hits(hits: Sequence[Any]) -> None:
    if not hits:
        console.print("No matches.")
        return
    for hit in hits:
        date = hit.published_at.date().isoformat() if hit.published_at else "undated"
        removed = getattr(hit, "removed_at", None)
        gone = f"  [red](removed {removed:%Y-%m-%d})[/red]" if removed else ""
        console.print(
            f"[bold]{hit.article_id:>5}[/bold]  {date}  [cyan]{_escape(hit.outlet)}[/cyan]"
            f"  {_escape(hit.title)}{gone}"
        )
        console.print(f"       {hit.url}", style="dim", markup=False)
        if hit.snippet:
            console.print(f"       {hit.snippet}", markup=False)


def print_versions(article: Article) -> None:
    """One line per version: number, time, change size, labels, headline when it changed."""
    table = Table(title=f"Versions of article {article.id}: {article.title}", title_justify="left")
    for column in ("#", "fetched", "+words", "-words", "labels", "title"):
        table.add_column(column, justify="right" if column in ("#", "+words", "-words") else "left")
    previous_title = None
    for version in article.versions:
        title = version.title if version.title != previous_title else ""
        previous_title = version.title
        table.add_row(
            str(version.number),
            version.fetched_at.strftime("%Y-%m-%d %H:%M"),
            str(version.words_added) if version.number > 1 else "",
            str(version.words_removed) if version.number > 1 else "",
            ", ".join(version.labels or []),
            _escape(title),
        )
    console.print(table)
    for event in article.events:
        console.print(
            f"  {event.at:%Y-%m-%d %H:%M}  {event.kind}: {event.detail or ''}", markup=False
        )


def print_article(article: Article, version: Version | None, text: str = "") -> None:
    """The article as of ``version`` (its headline and byline then), with the article's facts."""
    title = version.title if version is not None else article.title
    authors = version.authors if version is not None else article.authors
    console.print(f"[bold]{_escape(title)}[/bold]")
    facts = [
        ("id", str(article.id)),
        ("outlet", article.outlet.name),
        ("url", article.url),
        ("authors", ", ".join(authors or []) or "—"),
        ("published", article.published_at.isoformat() if article.published_at else "—"),
        ("first seen", article.first_seen_at.isoformat()),
        ("language", article.language or "—"),
        ("versions", str(len(article.versions))),
    ]
    if title != article.title:
        facts.append(("now titled", article.title))
    if list(authors or []) != list(article.authors or []):
        facts.append(("now by", ", ".join(article.authors or []) or "—"))
    if article.removed_at:
        facts.append(("removed", article.removed_at.isoformat()))
    for alias in article.urls:
        facts.append(("alias", alias.url))
    for key, value in facts:
        console.print(f"  {key:<10} {value}", markup=False)
    if version is not None:
        console.print(
            f"\n-- version {version.number} of {len(article.versions)}, "
            f"fetched {version.fetched_at.isoformat()} --\n",
            style="dim",
            markup=False,
        )
        console.print(text, markup=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
