"""Terminal output of ``newsmon stories``: a summary of every story, or one story's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from storage.story_report import StoryArticle, StoryReport

console = Console(highlight=False, soft_wrap=True)


def print_story_list(reports: Sequence[StoryReport]) -> None:
    """One row per story: kind, outlets covering it, articles, who was first."""
    if not reports:
        console.print(
            "No stories yet (configure [[stories]] or crawl several outlets).", markup=False
        )
        return
    table = Table(title="Stories", title_justify="left")
    for column in ("id", "story", "kind", "outlets", "articles", "first"):
        table.add_column(column, justify="right" if column in ("id", "articles") else "left")
    for report in reports:
        first = report.articles[0] if report.articles else None
        table.add_row(
            str(report.id),  # what `stories ID` and `search --story ID` take
            escape(report.name),
            report.kind,
            f"{len(report.outlets)}: {escape(', '.join(report.outlets))}",
            str(len(report.articles)),
            f"{escape(first.outlet)} {_when(first)}" if first else "—",
        )
    console.print(table)


def print_story(report: StoryReport) -> None:
    """The story's timeline: who published what first, versions, headline changes, copies."""
    console.print(f"[bold]{escape(report.name)}[/bold]  ({report.kind})")
    if report.query:
        console.print(f"  query: {report.query}", markup=False)
    console.print(f"  {len(report.outlets)} outlets: {', '.join(report.outlets)}", markup=False)
    table = Table(title_justify="left")
    for column in ("published", "first seen", "outlet", "id", "title", "versions", "copy of"):
        table.add_column(column, justify="right" if column in ("id", "versions") else "left")
    for article in report.articles:
        title = escape(article.title)
        if article.original_title and article.original_title != article.title:
            title += f"\n[dim]was: {escape(article.original_title)}[/dim]"
        if article.copies:
            title += f"\n[dim]copies: {', '.join(map(str, article.copies))}[/dim]"
        table.add_row(
            article.published_at.strftime("%Y-%m-%d %H:%M") if article.published_at else "—",
            article.first_seen_at.strftime("%Y-%m-%d %H:%M"),
            escape(article.outlet),
            str(article.id),
            title,
            str(article.versions),
            str(article.duplicate_of or ""),
        )
    console.print(table)


def _when(article: StoryArticle) -> str:
    return article.at.strftime("%Y-%m-%d %H:%M")
