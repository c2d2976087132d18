"""Boilerplate windows: the line keys of each outlet's recent new articles

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "boilerplate_windows",
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("pages", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", storage.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_boilerplate_windows_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outlet_id", name=op.f("pk_boilerplate_windows")),
    )


def downgrade() -> None:
    op.drop_table("boilerplate_windows")
