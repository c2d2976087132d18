"""Rows of ``pending_features``: features the extraction workers prepared, until post-processing
uses them.

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from storage.dedupe_store import chunked, table_of
from storage.models import PendingFeatures


@dataclass(frozen=True, slots=True)
class StoredFeatures:
    article_id: int
    digest: bytes
    text_hash: str
    minhash: bytes
    shingles: int
    terms: dict[str, Any]


def save_pending_features(
    session: Session, rows: Sequence[StoredFeatures], *, new_articles: bool = False
) -> None:
    """Store ``rows``, replacing what the same articles had pending (``new_articles``: rows of
    articles just created, which have nothing pending: deleting an article deletes its row)."""
    if not rows:
        return
    if not new_articles:
        drop_pending_features(session, [r.article_id for r in rows])
    session.execute(
        insert(table_of(PendingFeatures)),
        [
            {
                "article_id": r.article_id,
                "digest": r.digest,
                "text_hash": r.text_hash,
                "minhash": r.minhash,
                "shingles": r.shingles,
                "terms": r.terms,
            }
            for r in rows
        ],
    )


def pending_features(session: Session, ids: Iterable[int]) -> dict[int, StoredFeatures]:
    found: dict[int, StoredFeatures] = {}
    columns = (
        PendingFeatures.article_id,
        PendingFeatures.digest,
        PendingFeatures.text_hash,
        PendingFeatures.minhash,
        PendingFeatures.shingles,
        PendingFeatures.terms,
    )
    for batch in chunked(ids):
        statement = select(*columns).where(PendingFeatures.article_id.in_(batch))
        for row in session.execute(statement):
            found[row[0]] = StoredFeatures(
                row[0], bytes(row[1]), row[2], bytes(row[3]), row[4], row[5]
            )
    return found


def drop_pending_features(session: Session, ids: Iterable[int]) -> None:
    for batch in chunked(ids):
        session.execute(delete(PendingFeatures).where(PendingFeatures.article_id.in_(batch)))
