"""Versions compressed against keyframes; article text and events

Version text moves from plain ``text`` to zstd ``text_blob`` (``codec``, ``base_number``), raw
HTML keeps its zstd bytes, ``articles.text`` holds the latest text for display and snippets, and
``article_events`` records removals, reappearances and rejected extractions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import zstandard
from alembic import op

import storage.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_article_events_article_id_articles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_events")),
    )  # fmt: skip
    with op.batch_alter_table("article_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_events_article_id"), ["article_id"], unique=False
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_blob", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("codec", sa.String(length=20), nullable=False, server_default="zstd")
        )
        batch_op.add_column(sa.Column("base_number", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("stored_bytes", sa.Integer(), nullable=False, server_default="0")
        )
    _compress_existing_texts()
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column("text_blob", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_index("ix_versions_title_changed")
        batch_op.create_index(
            "ix_versions_title_changed_fetched_at", ["title_changed", "fetched_at"], unique=False
        )
        batch_op.drop_column("raw_encoding")
        batch_op.drop_column("text")


def _compress_existing_texts() -> None:
    """Existing versions become keyframes; each article gets its latest text."""
    bind = op.get_bind()
    versions = sa.table(
        "versions",
        sa.column("id", sa.Integer), sa.column("article_id", sa.Integer),
        sa.column("number", sa.Integer), sa.column("text", sa.Text),
        sa.column("text_blob", sa.LargeBinary), sa.column("raw_html", sa.LargeBinary),
        sa.column("stored_bytes", sa.Integer),
    )  # fmt: skip
    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("text", sa.Text))
    compressor = zstandard.ZstdCompressor(level=10)
    latest: dict[int, tuple[int, str]] = {}
    rows = bind.execute(
        sa.select(versions.c.id, versions.c.article_id, versions.c.number, versions.c.text,
                  versions.c.raw_html)
    ).all()  # fmt: skip
    for version_id, article_id, number, text, raw in rows:
        blob = compressor.compress((text or "").encode("utf-8"))
        bind.execute(
            versions.update()
            .where(versions.c.id == version_id)
            .values(text_blob=blob, stored_bytes=len(blob) + len(raw or b""))
        )
        if article_id not in latest or latest[article_id][0] < number:
            latest[article_id] = (number, text or "")
    for article_id, (_, text) in latest.items():
        bind.execute(articles.update().where(articles.c.id == article_id).values(text=text))


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index("ix_versions_title_changed_fetched_at")
        batch_op.create_index("ix_versions_title_changed", ["title_changed"], unique=False)
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("raw_encoding", sa.String(length=20), nullable=True))
        batch_op.drop_column("stored_bytes")
        batch_op.drop_column("base_number")
        batch_op.drop_column("codec")
        batch_op.drop_column("text_blob")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("text")
    with op.batch_alter_table("article_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_events_article_id"))
    op.drop_table("article_events")
