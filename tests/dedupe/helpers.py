"""Store articles through the real write path (``record_page``) for post-processing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from pipeline.features import prepare
from pipeline.history import record_page
from pipeline.versions import content_hash
from storage.repository import ArticleSnapshot

T0 = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
SCHEDULE = [(timedelta(days=1), timedelta(hours=1))]


def store(
    session: Session,
    outlet: str,
    url: str,
    title: str,
    paragraphs: list[str],
    *,
    published: datetime | None = None,
    fetched: datetime | None = None,
    prepared: bool = True,
) -> int:
    """Store (or update) an article as a crawl would, with the features its extraction worker
    prepares (``prepared=False``: without, for post-processing to compute); returns its id."""
    text = "\n".join(paragraphs)
    fetched = fetched or T0 + timedelta(hours=12)
    snapshot = ArticleSnapshot(
        outlet=outlet,
        url=url,
        title=title,
        text=text,
        content_hash=content_hash(title, text, []),
        fetched_at=fetched,
        published_at=published,
        raw_html=f"<html><body><h1>{title}</h1><p>{text}</p></body></html>".encode(),
    )
    features = prepare(title, text, None) if prepared else None
    outcome = record_page(session, snapshot, SCHEDULE, features=features)
    assert outcome.article_id is not None, outcome
    return outcome.article_id
