"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade_database
from storage.models import Base


def assert_matches_models(url: str) -> None:
    upgrade_database(url)
    upgrade_database(url)  # idempotent
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": _include_object, "compare_type": True},
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (
        type_ == "table" and name and (name.startswith("article_fts") or name == "alembic_version")
    )


def test_sqlite_upgrade_matches_models(sqlite_url: str) -> None:
    assert_matches_models(sqlite_url)


def test_postgres_upgrade_matches_models(postgres_url: str) -> None:
    assert_matches_models(postgres_url)
