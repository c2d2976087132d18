"""Databases for post-processing tests: a SQLite file per test, and one PostgreSQL database per
session emptied before each test (post-processing commits, so nothing can be rolled back)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from tests.postgres import migrated_postgres_database


@pytest.fixture(scope="session")
def dedupe_postgres() -> Iterator[str]:
    with migrated_postgres_database("newsmon_dedupe") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory on an empty, migrated database, on both backends."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'newsmon.db'}"
        upgrade_database(url)
    else:
        url = request.getfixturevalue("dedupe_postgres")
        _empty_postgres(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = connection.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
