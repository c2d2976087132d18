"""Migrated databases for storage tests: a SQLite file per test, one PostgreSQL database per run.

The PostgreSQL database gets a unique name and is dropped at the end; tests that use it must roll
back what they write (the ``db_session`` fixture does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.db import make_engine
from storage.migrate import upgrade_database
from tests.postgres import migrated_postgres_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated, uniquely named database; skipped when no server answers (failed on CI)."""
    with migrated_postgres_database("newsmon_test") as url:
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on both backends."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session whose writes are rolled back, keeping the shared PostgreSQL database clean."""
    with Session(db_engine) as session:
        yield session
        session.rollback()
