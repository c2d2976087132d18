"""`newsmon diff` compares versions as storing them did: an outlet's repeated lines are no edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pipeline.extraction.boilerplate import line_keys
from storage.blobs import pack
from storage.boilerplate import save_boilerplate_windows
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.models import Article, Version
from tests.e2e.test_crawl import run_newsmon
from tests.storage.test_search import add_article

PROMO = "Sign up for The Morning Brief, our free newsletter with the day's top stories."
FIRST = (
    "The harbour authority approved the new ferry timetable on Monday after a long public "
    "consultation.\nCrossings will run every half hour from April."
)
EDIT = "The night service returns on Fridays and Saturdays."


def test_a_line_learned_as_the_outlets_boilerplate_after_a_version_is_no_edit(
    tmp_path: Path,
) -> None:
    """Version 1 was stored with the promo, before the outlet's window had learned it; version 2
    without it and with one real sentence more: the diff shows the sentence only."""
    url = f"sqlite:///{tmp_path / 'news.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        article_id = add_article(session, "Coast", "Ferries", f"{PROMO}\n{FIRST}")
        text = f"{FIRST}\n{EDIT}"
        session.add(Version(article_id=article_id, number=2, title="Ferries",
                            text_blob=pack(text, None, None).text, content_hash="2"))  # fmt: skip
        session.get_one(Article, article_id).text = text
        pages = [line_keys(f"{PROMO}\nStory {n} of the day.") for n in range(6)]
        save_boilerplate_windows(session, {"Coast": pages}, datetime.now(UTC))
    engine.dispose()

    done = run_newsmon("--db", url, "diff", str(article_id), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["words_added"], result["words_removed"]) == (len(EDIT.split()), 0)
