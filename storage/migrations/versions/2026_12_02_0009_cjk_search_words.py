"""Search: each Chinese or Japanese character a word of its own; index entries rebuilt

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Before, a run of ideographs and kana between punctuation was one word, so 九州 did not find
九州の大雨. The entries of articles whose title or text holds such characters are written again
with the tokenisation of ``storage.query.words``; other entries are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from storage.query import CJK_CHARS
    from storage.search import index_articles, remove_from_index

    cjk = re.compile(f"[{CJK_CHARS}]")
    session = Session(bind=op.get_bind())
    articles = sa.table("articles", sa.column("id"), sa.column("title"), sa.column("text"))
    rows = session.execute(sa.select(articles.c.id, articles.c.title, articles.c.text))
    found = [(i, title or "", text or "") for i, title, text in rows if cjk.search(title or "")
             or cjk.search(text or "")]  # fmt: skip
    for article_id, _, _ in found:
        remove_from_index(session, article_id)
    for start in range(0, len(found), 500):
        index_articles(session, found[start : start + 500])
    session.flush()


def downgrade() -> None:
    """Entries written with single-character words still answer single-character queries."""
