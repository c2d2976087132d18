"""Full-text index and search over articles' latest title and text, on SQLite and PostgreSQL.

Both indexes store the words produced by :func:`storage.query.words`, so the index, the queries and
:func:`storage.query.matches` agree on what a word is. Functions take a Session and never commit.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from storage.db import is_sqlite
from storage.models import Article, ArticleStory, Outlet, Story
from storage.query import (
    Query,
    QuerySyntaxError,
    highlight_words,
    parse_query,
    to_fts5,
    to_tsquery,
    word_spans,
    words,
)

logger = logging.getLogger(__name__)

# The index tables are created by the migration, not the ORM metadata.
_SQLITE_FTS = table("article_fts", column("rowid", Integer), column("title"), column("body"))
_PG_FTS = table("article_fts", column("article_id", Integer), column("document", TSVECTOR))

_TITLE_WEIGHT, _BODY_WEIGHT = 5.0, 1.0  # bm25 column weights: a title hit counts five times
_PG_MAX_POSITION = 16383  # PostgreSQL clamps larger positions to this
_PG_MAX_WORD_BYTES = 2047  # PostgreSQL rejects longer lexemes
_PG_MAX_TSVECTOR_BYTES = 1_000_000  # PostgreSQL rejects a tsvector over 1 MiB; keep a margin
_SNIPPET_WORDS = 16


class UnknownNameError(LookupError):
    """A search filter names an outlet or story the database does not have (a user error)."""

    def __init__(self, kind: str, name: str, known: Sequence[str]) -> None:
        self.kind, self.name, self.known = kind, name, list(known)
        # story names are headlines, commas and all: quoted
        shown = [repr(n) if kind == "story" else n for n in known[:20]]
        listed = ", ".join(shown) + (", ..." if len(known) > 20 else "") or "none yet"
        super().__init__(f"no {kind} named {name!r} (known: {listed})")


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    outlet: str
    url: str
    title: str
    published_at: datetime | None
    snippet: str
    score: float
    removed_at: datetime | None = None  # gone from its site since (the text is still here)


def index_article(
    session: Session, article_id: int, title: str, text: str, *, replace: bool = True
) -> None:
    """Replace the article's index entry with its current ``title`` and ``text``
    (``replace=False``: the article is new and has no entry yet)."""
    if replace:
        remove_from_index(session, article_id)
    index_articles(session, [(article_id, title, text)])


def index_articles(session: Session, entries: Sequence[tuple[int, str, str]]) -> None:
    """Add index entries for new articles, ``(article_id, title, text)`` each, in one statement."""
    if not entries:
        return
    if is_sqlite(session):
        # Pre-tokenised text: FTS5's unicode61 folds differently from Python (Greek accents,
        # ligatures), so it must only ever see words that are already folded.
        rows = [
            {"rowid": article_id, "title": " ".join(words(title)), "body": " ".join(words(text))}
            for article_id, title, text in entries
        ]
        session.execute(insert(_SQLITE_FTS), rows)
        return
    documents = []
    for article_id, title, text in entries:
        literal, complete = _tsvector(words(title), words(text))
        if not complete:
            logger.warning("article %d: too many distinct words, index truncated", article_id)
        documents.append({"article_id": article_id, "document": literal})
    document = cast(bindparam("document", type_=Text), TSVECTOR)
    session.execute(insert(_PG_FTS).values(article_id=bindparam("article_id"), document=document),
                    documents)  # fmt: skip


def remove_from_index(session: Session, article_id: int) -> None:
    """Drop the article from the index (SQLite's FTS5 table has no cascading foreign key)."""
    if is_sqlite(session):
        session.execute(delete(_SQLITE_FTS).where(_SQLITE_FTS.c.rowid == article_id))
    else:
        session.execute(delete(_PG_FTS).where(_PG_FTS.c.article_id == article_id))


def _tsvector(title_words: list[str], body_words: list[str]) -> tuple[str, bool]:
    """A tsvector literal of our own words and positions, title words with weight A.

    Built in Python rather than with ``to_tsvector``: PostgreSQL's parser would split some words
    (``2e3i`` -> ``2e3``, ``i``) and could not keep a gap between title and body positions.

    Returns:
        The literal, and False when words were left out to stay under PostgreSQL's size limit.
    """
    positions: dict[str, list[str]] = {}
    for position, word in enumerate(title_words, start=1):
        positions.setdefault(word, []).append(f"{min(position, _PG_MAX_POSITION)}A")
    body_start = len(title_words) + 2  # the gap keeps phrases from spanning title and body
    for position, word in enumerate(body_words, start=body_start):
        positions.setdefault(word, []).append(str(min(position, _PG_MAX_POSITION)))
    entries: list[str] = []
    size = 0
    for word, places in positions.items():
        word_bytes = len(word.encode())
        size += word_bytes + 8 + 2 * min(len(places), 256)  # ~ its share of the stored tsvector
        if size > _PG_MAX_TSVECTOR_BYTES:
            return " ".join(entries), False
        if word_bytes <= _PG_MAX_WORD_BYTES:
            entries.append(f"'{_pg_escape(word)}':{','.join(places)}")
    return " ".join(entries), True


def _pg_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("'", "''")


def search_articles(
    session: Session,
    query: str | Query,
    *,
    outlets: Sequence[str] = (),
    story: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Find articles matching ``query``, best first.

    Args:
        session: any session; nothing is committed.
        query: the user's query text (see :mod:`storage.query`) or a parsed query.
        outlets: outlet names, case-insensitive; empty means all outlets.
        story: a story name, case-insensitive.
        since: earliest publication time (inclusive; first-seen time when unknown).
        until: latest publication time (inclusive, as ``[[stories]] until``).
        limit: maximum number of hits.

    Returns:
        Hits ordered by score (higher is better), then newest first.

    Raises:
        QuerySyntaxError: the query is malformed; the message is meant for the user.
        UnknownNameError: ``outlets`` or ``story`` names one the database does not have.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    conditions = _filters(session, outlets, story, since, until)
    if limit <= 0:
        return []
    sqlite = is_sqlite(session)
    statement = _sqlite_statement(parsed) if sqlite else _postgres_statement(parsed)
    published = func.coalesce(Article.published_at, Article.first_seen_at)
    statement = (
        statement.where(*conditions)
        .order_by(literal_column("score").desc(), published.desc(), Article.id.desc())
        .limit(limit)
    )
    rows = _execute(session, statement)
    texts = _latest_texts(session, [row.id for row in rows])
    is_hit = _hit_test(parsed)
    return [
        SearchHit(
            article_id=row.id,
            outlet=row.outlet,
            url=row.url,
            title=row.title,
            published_at=row.published_at,
            snippet=_snippet(row.title, texts.get(row.id) or row.description or "", is_hit),
            score=float(row.score),
            removed_at=row.removed_at,
        )
        for row in rows
    ]


def _base_columns() -> list[Any]:
    return [
        Article.id,
        Outlet.name.label("outlet"),
        Article.url,
        Article.title,
        Article.published_at,
        Article.description,
        Article.removed_at,
    ]


def _sqlite_statement(query: Query) -> Select[Any]:
    fts: ColumnElement[Any] = literal_column("article_fts")
    score = -func.bm25(fts, _TITLE_WEIGHT, _BODY_WEIGHT)
    return (
        select(*_base_columns(), score.label("score"))
        .select_from(_SQLITE_FTS)
        .join(Article, Article.id == _SQLITE_FTS.c.rowid)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(fts.op("MATCH")(bindparam("match", to_fts5(query), Text)))
    )


def _postgres_statement(query: Query) -> Select[Any]:
    # A cast, not to_tsquery(): the words are already folded and must not be re-parsed.
    tsquery = cast(bindparam("tsquery", to_tsquery(query), Text), TSQUERY)
    document = _PG_FTS.c.document
    return (
        select(*_base_columns(), func.ts_rank_cd(document, tsquery).label("score"))
        .select_from(_PG_FTS)
        .join(Article, Article.id == _PG_FTS.c.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(document.bool_op("@@")(tsquery))
    )


def _filters(
    session: Session,
    outlets: Sequence[str],
    story: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]] | None:
    """WHERE conditions for the filters.

    Raises:
        UnknownNameError: a named outlet or story is not in the database.
    """
    conditions: list[ColumnElement[bool]] = []
    if outlets:
        outlet_ids = _ids_by_name(session, Outlet.id, Outlet.name, outlets, "outlet")
        conditions.append(Article.outlet_id.in_(outlet_ids))
    if story is not None:
        story_ids = _ids_by_name(session, Story.id, Story.name, [story], "story", by_id=True)
        members = select(ArticleStory.article_id).where(ArticleStory.story_id.in_(story_ids))
        conditions.append(Article.id.in_(members))
    published = func.coalesce(Article.published_at, Article.first_seen_at)
    if since is not None:
        conditions.append(published >= since)
    if until is not None:
        conditions.append(published <= until)
    return conditions


def _ids_by_name(
    session: Session,
    id_column: Any,
    name_column: Any,
    names: Sequence[str],
    kind: str,
    *,
    by_id: bool = False,
) -> list[int]:
    """Ids whose name is one of ``names``, ignoring case; every name must exist. ``by_id``: a
    number that is no name is taken as the id (story names are long headlines).

    Compared in Python: SQLite's ``lower()`` knows only ASCII, and outlets and stories are few.
    """
    rows = session.execute(select(id_column, name_column)).all()
    known = {name.casefold(): (row_id, name) for row_id, name in rows}
    ids = {str(row_id) for row_id, _ in rows} if by_id else set()
    found = []
    for name in names:
        if name.casefold() in known:
            found.append(known[name.casefold()][0])
        elif name.strip() in ids:
            found.append(int(name.strip()))
        else:
            raise UnknownNameError(kind, name, sorted(n for _, n in known.values()))
    return found


def _execute(session: Session, statement: Select[Any]) -> Sequence[Any]:
    """Run the search; an error caused by the query text becomes a QuerySyntaxError."""
    try:
        return session.execute(statement).all()
    except OperationalError as exc:  # SQLite reports MATCH problems at execution time
        message = str(exc.orig)
        if not message.startswith(("fts5:", "no such column", "unknown special query")):
            raise
        raise QuerySyntaxError(f"the search index could not use this query ({message})") from None
    except DataError as exc:  # PostgreSQL: a tsquery it cannot read
        if "tsquery" not in str(exc.orig):
            raise
        raise QuerySyntaxError("the search index could not use this query") from None


def _latest_texts(session: Session, article_ids: list[int]) -> dict[int, str]:
    """The text of each article's newest version (kept on the article), for its snippet."""
    if not article_ids:
        return {}
    statement = select(Article.id, Article.text).where(Article.id.in_(article_ids))
    return dict(session.execute(statement).all())


def _hit_test(query: Query) -> Callable[[str], bool]:
    exact, prefixes = highlight_words(query)
    return lambda word: word in exact or word.startswith(prefixes)


def _snippet(title: str, text: str, is_hit: Callable[[str], bool]) -> str:
    """About 16 words around the most hits, in the text or else the title; hits in ``[...]``.

    Built in Python on both backends: the indexes hold folded words, unfit for display.
    """
    text_hits, text_snippet = _best_window(text, is_hit)
    title_hits, title_snippet = _best_window(title, is_hit)
    return title_snippet if title_hits > text_hits or not text_snippet else text_snippet


def _best_window(text: str, is_hit: Callable[[str], bool]) -> tuple[int, str]:
    spans = word_spans(text)
    if not spans:
        return 0, ""
    hits = [i for i, (word, _, _) in enumerate(spans) if is_hit(word)]
    start, count = 0, 0
    for hit in hits:  # candidate windows start a few words before each hit
        candidate = max(0, min(hit - 3, len(spans) - _SNIPPET_WORDS))
        inside = bisect.bisect_left(hits, candidate + _SNIPPET_WORDS) - bisect.bisect_left(
            hits, candidate
        )
        if inside > count:
            start, count = candidate, inside
    end = min(len(spans), start + _SNIPPET_WORDS)
    return count, _render(text, spans, start, end, set(hits))


def _render(
    text: str, spans: list[tuple[str, int, int]], start: int, end: int, hits: set[int]
) -> str:
    parts = ["…"] if start > 0 else []
    cursor, open_bracket = spans[start][1], False
    for i in range(start, end):
        _, word_start, word_end = spans[i]
        gap = text[cursor:word_start]
        if open_bracket and (i not in hits or _separates(gap)):
            parts.append("]")
            open_bracket = False
        parts.append(gap)
        if i in hits and not open_bracket:
            parts.append("[")
            open_bracket = True
        parts.append(text[word_start:word_end])
        cursor = word_end
    parts.append("]" if open_bracket else "")
    parts.append("…" if end < len(spans) else "")
    return " ".join("".join(parts).split())


def _separates(gap: str) -> bool:
    """Whether hits around ``gap`` get their own brackets: "[dissent memo]", "[co-op]", but
    "[Gaza], [Hamas]"."""
    return bool(gap.strip()) and any(char.isspace() for char in gap)
