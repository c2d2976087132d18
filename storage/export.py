"""Whole-database reads: export records and summaries. Functions never commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.models import Article, ArticleStory, Fetch, Outlet, Version
from storage.repository import version_texts


def iter_articles(session: Session, batch: int = 200) -> Iterator[Article]:
    """All articles with their outlet, URLs, versions and stories, in id order, in batches."""
    last_id = 0
    while True:
        articles = list(
            session.scalars(
                select(Article)
                .where(Article.id > last_id)
                .order_by(Article.id)
                .limit(batch)
                .options(
                    selectinload(Article.outlet),
                    selectinload(Article.urls),
                    selectinload(Article.versions),
                    selectinload(Article.stories).selectinload(ArticleStory.story),
                )
            )
        )
        if not articles:
            return
        yield from articles
        last_id = articles[-1].id
        session.expunge_all()


def article_record(article: Article, *, include_text: bool = True) -> dict[str, Any]:
    """The export record of one article (the JSONL contract)."""
    texts = version_texts(article.versions) if include_text else {}
    return {
        "id": article.id,
        "outlet": article.outlet.name,
        "url": article.url,
        "canonical_url": article.url,
        "title": article.title,
        "authors": list(article.authors or []),
        "published_at": _iso(article.published_at),
        "modified_at": _iso(article.modified_at),
        "first_seen_at": _iso(article.first_seen_at),
        "last_checked_at": _iso(article.last_checked_at),
        "language": article.language,
        "site_name": article.site_name,
        "description": article.description,
        "aliases": [u.url for u in article.urls],
        "removed_at": _iso(article.removed_at),
        "duplicate_of": article.duplicate_of_id,
        "stories": sorted(link.story.name for link in article.stories),
        "versions": [
            {
                "number": v.number,
                "fetched_at": _iso(v.fetched_at),
                "title": v.title,
                **({"text": texts[v.number]} if include_text else {}),
                "authors": list(v.authors or []),
                "content_hash": v.content_hash,
                "words_added": v.words_added,
                "words_removed": v.words_removed,
                "title_changed": v.title_changed,
                "labels": list(v.labels or []),
            }
            for v in article.versions
        ],
    }


def counts(session: Session) -> dict[str, int]:
    return {
        "outlets": session.scalar(select(func.count()).select_from(Outlet)) or 0,
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "versions": session.scalar(select(func.count()).select_from(Version)) or 0,
        "fetches": session.scalar(select(func.count()).select_from(Fetch)) or 0,
    }


def articles_per_outlet(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Outlet.name, func.count(Article.id))
        .join(Article, Article.outlet_id == Outlet.id, isouter=True)
        .group_by(Outlet.name)
        .order_by(Outlet.name)
    )
    return [(name, count) for name, count in rows]


def recent_articles(session: Session, limit: int = 10) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .options(selectinload(Article.outlet))
            .order_by(Article.first_seen_at.desc(), Article.id.desc())
            .limit(limit)
        )
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
