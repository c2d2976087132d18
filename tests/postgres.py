"""A throwaway PostgreSQL database for tests: created, migrated, and dropped at the end.

Skipped with a clear reason when no server answers on 127.0.0.1:5432, except under ``CI=true``,
where a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from storage.migrate import upgrade_database

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def migrated_postgres_database(prefix: str) -> Iterator[str]:
    """Yield the URL of a new, uniquely named, migrated database; drop it afterwards."""
    import psycopg  # an optional dependency: only PostgreSQL tests need it

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
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
