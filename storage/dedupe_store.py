"""Reads and writes of duplicate detection: signatures, LSH bands, copy links, groups, marks.

Bulk statements (Core, executemany) because post-processing touches thousands of rows per
batch. Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Article,
    ArticleSignature,
    Base,
    JobMark,
    Outlet,
    SyndicationBand,
    SyndicationLink,
    Version,
    utcnow,
)


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, for bulk statements (``__table__`` is typed loosely)."""
    return cast("Table", model.__table__)


CHUNK = 900  # bound parameters per IN list, well under every backend's limit
KEY_CHUNK = 5000  # for integer keys (SQLite >= 3.32 and PostgreSQL allow 32k+ parameters)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """An article's latest state, as post-processing needs it."""

    id: int
    outlet_id: int
    outlet: str
    title: str
    text: str
    language: str | None
    published_at: datetime | None
    first_seen_at: datetime
    duplicate_of_id: int | None

    @property
    def event_at(self) -> datetime:
        return self.published_at or self.first_seen_at


@dataclass(frozen=True, slots=True)
class StoredSignature:
    article_id: int
    text_hash: str
    minhash: bytes
    shingles: int


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- high-water marks ----------------------------------------------------------------------


def get_mark(session: Session, name: str) -> int:
    return session.scalar(select(JobMark.position).where(JobMark.name == name)) or 0


def set_mark(
    session: Session, name: str, position: int, info: dict[str, Any] | None = None
) -> None:
    mark = session.get(JobMark, name)
    if mark is None:
        session.add(JobMark(name=name, position=position, info=info or {}))
    else:
        mark.position = position
        mark.updated_at = utcnow()
        mark.info = info or {}
    session.flush()


def lock_mark(session: Session, name: str) -> None:
    """Take the job's lock for this transaction (one writer at a time: a crawl's job and a
    scheduled one never process the same batch twice)."""
    locked = session.execute(
        update(JobMark).where(JobMark.name == name).values(updated_at=utcnow())
    )
    if not locked.rowcount:  # type: ignore[attr-defined]
        session.add(JobMark(name=name, position=0, info={}))
        session.flush()


def changed_since(session: Session, version_id: int, limit: int) -> tuple[list[int], int]:
    """Articles with a version newer than ``version_id`` (the next ``limit`` versions), and the
    last version id seen: the next mark."""
    rows = session.execute(
        select(Version.id, Version.article_id)
        .where(Version.id > version_id)
        .order_by(Version.id)
        .limit(limit)
    ).all()
    if not rows:
        return [], version_id
    return list(dict.fromkeys(article_id for _, article_id in rows)), rows[-1][0]


# --- articles ------------------------------------------------------------------------------


def article_rows(
    session: Session, ids: Iterable[int], *, with_text: bool = True
) -> dict[int, ArticleRow]:
    """Latest state of the articles (``with_text=False``: the text is left empty)."""
    found: dict[int, ArticleRow] = {}
    text = Article.text if with_text else literal("")
    for batch in chunked(ids):
        statement = (
            select(
                Article.id,
                Article.outlet_id,
                Outlet.name,
                Article.title,
                text,
                Article.language,
                Article.published_at,
                Article.first_seen_at,
                Article.duplicate_of_id,
            )
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(Article.id.in_(batch))
        )
        for row in session.execute(statement):
            found[row[0]] = ArticleRow(*row)
    return found


def group_members(session: Session, ids: Iterable[int]) -> set[int]:
    """``ids`` and every article in the same syndication group as one of them."""
    ids = set(ids)
    origins: set[int] = set()
    for batch in chunked(ids):
        rows = session.execute(
            select(Article.id, Article.duplicate_of_id).where(Article.id.in_(batch))
        )
        origins.update(dup or article_id for article_id, dup in rows)
    members = set(ids) | origins
    for batch in chunked(origins):
        members.update(
            session.scalars(select(Article.id).where(Article.duplicate_of_id.in_(batch)))
        )
    return members


def duplicate_map(session: Session, ids: Iterable[int]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    for batch in chunked(ids):
        rows = session.execute(
            select(Article.id, Article.duplicate_of_id).where(Article.id.in_(batch))
        )
        found.update((article_id, dup) for article_id, dup in rows)
    return found


def set_duplicates(session: Session, targets: dict[int, int | None]) -> int:
    """Write ``duplicate_of`` where it changed; returns how many articles changed."""
    current = duplicate_map(session, targets)
    changed = [
        {"b_id": article_id, "b_dup": target}
        for article_id, target in targets.items()
        if article_id in current and current[article_id] != target
    ]
    if changed:
        statement = (
            update(table_of(Article))
            .where(table_of(Article).c.id == bindparam("b_id"))
            .values(duplicate_of_id=bindparam("b_dup"))
        )
        session.execute(statement, changed)
    return len(changed)


# --- signatures and the LSH index ----------------------------------------------------------


def save_signatures(session: Session, rows: Sequence[StoredSignature]) -> None:
    ids = [r.article_id for r in rows]
    for batch in chunked(ids):
        session.execute(delete(ArticleSignature).where(ArticleSignature.article_id.in_(batch)))
    if rows:
        now = utcnow()
        session.execute(
            insert(table_of(ArticleSignature)),
            [
                {
                    "article_id": r.article_id,
                    "text_hash": r.text_hash,
                    "minhash": r.minhash,
                    "shingles": r.shingles,
                    "computed_at": now,
                }
                for r in rows
            ],
        )


def signatures(session: Session, ids: Iterable[int]) -> dict[int, StoredSignature]:
    found: dict[int, StoredSignature] = {}
    for batch in chunked(ids):
        statement = select(
            ArticleSignature.article_id,
            ArticleSignature.text_hash,
            ArticleSignature.minhash,
            ArticleSignature.shingles,
        ).where(ArticleSignature.article_id.in_(batch))
        for row in session.execute(statement):
            found[row[0]] = StoredSignature(row[0], row[1], bytes(row[2]), row[3])
    return found


def articles_with_text_hash(session: Session, hashes: Iterable[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for batch in chunked(set(hashes)):
        statement = select(ArticleSignature.text_hash, ArticleSignature.article_id).where(
            ArticleSignature.text_hash.in_(batch)
        )
        for text_hash, article_id in session.execute(statement):
            found.setdefault(text_hash, []).append(article_id)
    return found


def replace_bands(
    session: Session, keys: dict[int, list[int]], stale: dict[int, list[int]] | None = None
) -> None:
    """Index each article under ``keys[article_id]``, dropping its ``stale`` (former) keys."""
    table = table_of(SyndicationBand)
    old = [{"b_key": k, "b_id": a} for a, ks in (stale or {}).items() for k in set(ks)]
    if old:
        session.execute(
            delete(table).where(
                table.c.key == bindparam("b_key"), table.c.article_id == bindparam("b_id")
            ),
            old,
        )
    rows = [(k, a) for a, ks in keys.items() for k in set(ks)]
    if rows:
        insert_rows(session, table, ("key", "article_id"), rows)


# The driver's own placeholder, for the paramstyles of the drivers newsmon runs on (sqlite3,
# psycopg); any other driver goes through SQLAlchemy's executemany.
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert many plain rows with the driver's ``executemany``.

    A batch of 2,000 articles has 64,000 band rows: SQLAlchemy's per-row parameter handling
    cost about as much as the database's own work on them, at the end of every crawl.
    """
    session.flush()  # the rows may refer to objects still pending in the session
    connection = session.connection()
    mark = _PLACEHOLDERS.get(connection.dialect.paramstyle)
    if mark is None:
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join(mark for _ in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
    connection.exec_driver_sql(sql, rows)


def band_matches(session: Session, keys: Iterable[int]) -> dict[int, list[int]]:
    """Articles indexed under each of ``keys``."""
    found: dict[int, list[int]] = {}
    for batch in chunked(set(keys), KEY_CHUNK):
        statement = select(SyndicationBand.key, SyndicationBand.article_id).where(
            SyndicationBand.key.in_(batch)
        )
        for key, article_id in session.execute(statement):
            found.setdefault(key, []).append(article_id)
    return found


# --- copy links and groups -----------------------------------------------------------------


def replace_links(
    session: Session, article_ids: Iterable[int], links: dict[tuple[int, int], float]
) -> set[int]:
    """Drop the links of ``article_ids``, store ``links``; returns the former partners."""
    ids = list(article_ids)
    former: set[int] = set()
    table = SyndicationLink
    for batch in chunked(ids):
        condition = or_(table.article_id.in_(batch), table.other_id.in_(batch))
        for a, b in session.execute(select(table.article_id, table.other_id).where(condition)):
            former.update((a, b))
        session.execute(delete(table).where(condition))
    if links:
        session.execute(
            insert(table_of(SyndicationLink)),
            [{"article_id": a, "other_id": b, "similarity": s} for (a, b), s in links.items()],
        )
    return former - set(ids)


def linked_component(
    session: Session, seeds: Iterable[int]
) -> tuple[set[int], set[tuple[int, int]]]:
    """Every article reachable from ``seeds`` over copy links, and those links."""
    nodes = set(seeds)
    edges: set[tuple[int, int]] = set()
    frontier = set(nodes)
    table = SyndicationLink
    while frontier:
        found: set[int] = set()
        for batch in chunked(frontier):
            condition = or_(table.article_id.in_(batch), table.other_id.in_(batch))
            for a, b in session.execute(select(table.article_id, table.other_id).where(condition)):
                edges.add((a, b))
                found.update((a, b))
        frontier = found - nodes
        nodes |= found
    return nodes, edges


def group_times(
    session: Session, ids: Iterable[int]
) -> dict[int, tuple[datetime | None, datetime]]:
    """(published_at, first_seen_at) of each article: what decides a group's origin."""
    found: dict[int, tuple[datetime | None, datetime]] = {}
    for batch in chunked(ids):
        statement = select(Article.id, Article.published_at, Article.first_seen_at).where(
            Article.id.in_(batch)
        )
        found.update((i, (p, f)) for i, p, f in session.execute(statement))
    return found


def reset_postprocess(session: Session) -> None:
    """Forget everything post-processing derived, so the next run starts from scratch
    (after a threshold change). Merged articles stay merged."""
    from storage.models import ArticleStory, Story, StoryFeature, StoryTerm

    for model in (SyndicationBand, SyndicationLink, ArticleSignature, StoryFeature, StoryTerm):
        session.execute(delete(model))
    auto = select(Story.id).where(Story.kind == "auto")
    session.execute(delete(ArticleStory).where(ArticleStory.story_id.in_(auto)))
    session.execute(delete(Story).where(Story.kind == "auto"))
    session.execute(update(Story).values(matched_spec=None))
    session.execute(update(Article).values(duplicate_of_id=None))
    session.execute(delete(JobMark).where(JobMark.name.in_(["postprocess", "story-documents"])))


def note_on_run(session: Session, run_id: int, key: str, value: dict[str, Any]) -> None:
    """Add ``value`` under ``key`` to a crawl run's stats (e.g. what post-processing did)."""
    from storage.models import CrawlRun

    run = session.get(CrawlRun, run_id)
    if run is not None:
        run.stats = {**(run.stats or {}), key: value}
