"""Dedupe and stories: MinHash signatures, persisted LSH bands, copy links, story features

``article_signatures`` holds each article's exact-text key and MinHash, ``syndication_bands``
the LSH index (one row per band key; a clustered primary key only), ``syndication_links`` the copy pairs whose connected
components are syndication groups. ``story_features`` and ``story_terms`` hold the term vectors
and document frequencies of automatic stories; ``stories`` gains ``cluster_id`` (auto stories)
and ``matched_spec`` (what a configured story was last matched with). ``job_marks`` keeps the
high-water mark of the incremental post-processing job.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _article_fk(table: str, column: str = "article_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["articles.id"],
        name=op.f(f"fk_{table}_{column}_articles"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "job_marks",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("updated_at", storage.models.UtcDateTime(), nullable=False),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_marks")),
    )
    op.create_table(
        "story_terms",
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_story_terms")),
    )
    op.create_table(
        "article_signatures",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        sa.Column("computed_at", storage.models.UtcDateTime(), nullable=False),
        _article_fk("article_signatures"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_signatures")),
    )
    op.create_index(
        op.f("ix_article_signatures_text_hash"), "article_signatures", ["text_hash"]
    )
    op.create_table(
        "story_features",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("event_at", storage.models.UtcDateTime(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        _article_fk("story_features"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_story_features")),
    )
    op.create_index(op.f("ix_story_features_cluster_id"), "story_features", ["cluster_id"])
    op.create_index(op.f("ix_story_features_event_at"), "story_features", ["event_at"])
    op.create_table(
        "syndication_bands",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        _article_fk("syndication_bands"),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f("pk_syndication_bands")),
        sqlite_with_rowid=False,  # one B-tree for millions of rows
    )
    op.create_table(
        "syndication_links",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        _article_fk("syndication_links"),
        _article_fk("syndication_links", "other_id"),
        sa.PrimaryKeyConstraint("article_id", "other_id", name=op.f("pk_syndication_links")),
    )
    op.create_index(op.f("ix_syndication_links_other_id"), "syndication_links", ["other_id"])
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("matched_spec", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stories_cluster_id"), ["cluster_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stories_cluster_id"))
        batch_op.drop_column("matched_spec")
        batch_op.drop_column("cluster_id")
    for table in (
        "syndication_links",
        "syndication_bands",
        "story_features",
        "article_signatures",
        "story_terms",
        "job_marks",
    ):
        op.drop_table(table)
