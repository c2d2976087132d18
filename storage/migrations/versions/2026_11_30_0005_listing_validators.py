"""Listings: validators of each feed, sitemap and section page for conditional GET

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listings",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("children", sa.JSON(), nullable=False),
        sa.Column("read_at", storage.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_listings_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_listings")),
    )
    op.create_index(op.f("ix_listings_outlet_id"), "listings", ["outlet_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_listings_outlet_id"), table_name="listings")
    op.drop_table("listings")
