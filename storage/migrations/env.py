"""Alembic environment; the URL comes from ``sqlalchemy.url`` or NEWSMON_DATABASE_URL."""

from __future__ import annotations

import os
from typing import Any

from alembic import context

from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata

# Tables created per dialect by hand in migrations, invisible to autogenerate.
_UNMANAGED = {"article_fts", "apscheduler_jobs"}


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ != "table" or name is None:
        return True
    return name not in _UNMANAGED and not name.startswith("article_fts_")


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("NEWSMON_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or NEWSMON_DATABASE_URL")
    return url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                include_object=_include_object,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
