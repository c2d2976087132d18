"""Migrated databases for storage tests: a SQLite file per test, one PostgreSQL database per run.

The PostgreSQL database gets a unique name and is dropped at the end; tests that use it must roll
back what they write (the ``db_session`` fixture does).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.db import make_engine
from storage.migrate import upgrade_database

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated, uniquely named database; skipped when no server answers (failed on CI)."""
    import psycopg  # an optional dependency: only PostgreSQL tests need it

    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = "PostgreSQL not reachable at 127.0.0.1:5432: " + " ".join(str(exc).split())
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            upgrade_database(url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
