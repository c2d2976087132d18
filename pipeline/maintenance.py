"""Maintenance for ``newsmon run``: drop old raw HTML (``[versions] raw_html_retention``) and
optimise the SQLite full-text index. No ``VACUUM``: it would lock the database for minutes.

Later versions of an article are compressed with its keyframe (a plain version) as dictionary,
raw HTML included, so a keyframe's raw HTML is dropped only once no version that depends on it
still holds raw HTML; text is always kept. The daemon runs this per outlet while it holds the
outlet (no crawl of it can add a version compressed against a raw HTML being dropped).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, text, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from storage.blobs import DELTA, PLAIN
from storage.models import Article, Outlet, Version

BATCH = 500


def drop_raw_html(sessions: sessionmaker[Session], outlet: str, cutoff: datetime) -> int:
    """Drop the raw HTML of ``outlet``'s versions fetched before ``cutoff``; returns how many.

    Deltas first (nothing depends on them), then keyframes that no remaining raw HTML needs.
    Batches of :data:`BATCH`, one transaction each, so crawls are never blocked for long.
    """
    dropped = 0
    for codec in (DELTA, PLAIN):
        while True:
            with sessions.begin() as session:
                ids = list(session.scalars(_candidates(outlet, cutoff, codec).limit(BATCH)))
                if ids:
                    session.execute(
                        update(Version)
                        .where(Version.id.in_(ids), Version.raw_html.is_not(None))
                        .values(raw_html=None, stored_bytes=func.length(Version.text_blob))
                        .execution_options(synchronize_session=False)
                    )
            dropped += len(ids)
            if len(ids) < BATCH:
                break
    return dropped


def optimise_search_index(sessions: sessionmaker[Session]) -> bool:
    """Merge the SQLite FTS5 index's segments; PostgreSQL's GIN index needs nothing from us."""
    with sessions.begin() as session:
        if session.get_bind().dialect.name != "sqlite":
            return False
        session.execute(text("INSERT INTO article_fts(article_fts) VALUES('optimize')"))
    return True


def stored_outlets(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Outlet.name).order_by(Outlet.name)))


def _candidates(outlet: str, cutoff: datetime, codec: str) -> Select[Any]:
    query = (
        select(Version.id)
        .join(Article, Article.id == Version.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(
            Outlet.name == outlet,
            Version.fetched_at < cutoff,
            Version.raw_html.is_not(None),
            Version.codec == codec,
        )
        .order_by(Version.id)
    )
    if codec == PLAIN:
        dependent = aliased(Version)
        query = query.where(
            ~exists().where(
                dependent.article_id == Version.article_id,
                dependent.base_number == Version.number,
                dependent.codec == DELTA,
                dependent.raw_html.is_not(None),
            )
        )
    return query
