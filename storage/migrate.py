"""Run Alembic migrations from code, so ``newsmon init`` works from an installed wheel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from storage.db import make_engine, normalise_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# The newest migration. Every crawl starts by making sure the schema is current: when the
# database already says so, that is one SELECT instead of loading Alembic and its scripts
# (a tenth of a second at every start). tests/storage/test_migrations.py keeps it in step.
HEAD_REVISION = "0010"


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", "storage:migrations")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def new_revision(url: str, message: str) -> None:
    """Autogenerate a migration against an up-to-date database (run from a checkout only)."""
    from alembic import command

    config = alembic_config(url)
    config.set_main_option("script_location", "storage/migrations")
    command.revision(config, message=message, autogenerate=True)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema; idempotent."""
    if revision == "head" and _stored_revision(url) == HEAD_REVISION:
        return
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def _stored_revision(url: str) -> str | None:
    """The revision recorded in the database, without Alembic (None: no schema yet)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):  # no alembic_version table yet
        return None
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def is_up_to_date(url: str) -> bool:
    engine = make_engine(url)
    try:
        return current_revision(engine) == head_revision(url)
    finally:
        engine.dispose()
