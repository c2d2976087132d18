"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import make_engine
from storage.migrate import HEAD_REVISION, current_revision, head_revision, upgrade_database
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


def test_versions_written_before_compression_survive_the_upgrade(sqlite_url: str) -> None:
    """0001 stored plain version text; 0002 compresses it and copies the latest to the article."""
    from alembic import command
    from sqlalchemy import text

    from storage.migrate import alembic_config
    from storage.repository import version_content

    command.downgrade(alembic_config(sqlite_url), "0001")
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO outlets (id, name, created_at) VALUES (1, 'A', '2023-11-13')")
        )
        connection.execute(
            text(
                "INSERT INTO articles (id, outlet_id, url, title, authors, first_seen_at) "
                "VALUES (1, 1, 'https://a.example/1', 'T', '[]', '2023-11-13')"
            )
        )
        for number, body in ((1, "first text"), (2, "second text")):
            connection.execute(
                text(
                    "INSERT INTO versions (article_id, number, fetched_at, title, text, authors, "
                    "content_hash, words_added, words_removed, title_changed, labels) VALUES "
                    "(1, :n, '2023-11-13', 'T', :body, '[]', :hash, 0, 0, 0, '[]')"
                ),
                {"n": number, "body": body, "hash": str(number) * 64},
            )
    engine.dispose()
    upgrade_database(sqlite_url)
    from storage.db import make_session_factory
    from storage.models import Article

    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        article = session.get(Article, 1)
        assert article is not None
        assert article.text == "second text"
        assert [version_content(session, v)[0] for v in article.versions] == [
            "first text",
            "second text",
        ]
    engine.dispose()


def test_head_revision_constant_is_the_newest_migration(sqlite_url: str) -> None:
    assert head_revision(sqlite_url) == HEAD_REVISION


def test_a_database_one_migration_behind_is_upgraded(sqlite_url: str) -> None:
    upgrade_database(sqlite_url, "0005")
    upgrade_database(sqlite_url)  # the shortcut for current schemas must not skip this
    engine = make_engine(sqlite_url)
    try:
        assert current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()
