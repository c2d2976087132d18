"""Engines and sessions: SQLite by default (WAL, foreign keys on), PostgreSQL at scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUrlError(ValueError):
    """The database URL cannot be used (a user error)."""


def checked_url(url: str) -> URL:
    """``url`` parsed, if newsmon can store its data there (no side effects: config checks)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):  # the search index is FTS5 or tsvector
        raise DatabaseUrlError(
            f"unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}:"
            " newsmon stores its data in SQLite or PostgreSQL"
        )
    return parsed


def normalise_url(url: str) -> str:
    """Validate ``url``, use psycopg 3 for plain ``postgresql://`` and create SQLite's folder."""
    parsed = checked_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database, or an in-memory one)."""
    parsed = checked_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def make_engine(url: str, *, immediate: bool = False, **kwargs: Any) -> Engine:
    """Create an engine; SQLite connections get WAL, foreign keys and a busy timeout.

    SQLite transactions are begun by SQLAlchemy, not by the sqlite3 module (whose implicit
    BEGIN breaks SAVEPOINT). ``immediate``: writers take the write lock at BEGIN, so two
    processes never deadlock upgrading read transactions ("database is locked").
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql(begin))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    try:
        return create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:  # the driver is an extra: newsmon[postgres]
        raise DatabaseUrlError(
            f"the database driver {exc.name!r} is not installed (pip install 'newsmon[postgres]')"
        ) from None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
