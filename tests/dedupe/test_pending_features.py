"""Features prepared next to the text (by the extraction workers) stand in for computing them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.dedupe import signature
from pipeline.postprocess import PostprocessOptions, run_postprocess
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.models import (
    Article,
    ArticleSignature,
    ArticleStory,
    PendingFeatures,
    StoryFeature,
)
from tests.dedupe import texts
from tests.dedupe.helpers import T0, store

HOUR = timedelta(hours=1)
Sessions = sessionmaker[Session]


def coverage(sessions: Sessions, *, prepared: bool) -> None:
    """Wire copies, own reports, a similar event, a merge and an update, stored as a crawl does."""
    pages = [
        ("Lakeside", "https://l/1", texts.WIRE_TITLE, texts.WIRE, 2),
        ("Metro", "https://m/1", texts.WIRE_TITLE, texts.WIRE_TRIMMED, 3),
        ("Valley", "https://v/1", texts.WIRE_TITLE_ALT, texts.WIRE, 4),
        ("County", "https://c/1", texts.OWN_HARLOW_1_TITLE, texts.OWN_HARLOW_1, 5),
        ("County", "https://c/2", texts.OWN_HARLOW_2_TITLE, texts.OWN_HARLOW_2, 5),
        ("Metro", "https://m/2", texts.OTHER_FIRE_1_TITLE, texts.OTHER_FIRE_1, 6),
        ("River", "https://r/a", "Warehouse fire", texts.OTHER_FIRE_2, 7),
        ("River", "https://r/print/a", "Warehouse fire (print)", texts.OTHER_FIRE_2, 8),
        ("Metro", "https://m/2", texts.OTHER_FIRE_1_TITLE, texts.OTHER_FIRE_1[:-1], 9),
    ]
    for outlet, url, title, paragraphs, hours in pages:
        with sessions.begin() as s:
            store(s, outlet, url, title, paragraphs, published=T0 + hours * HOUR,
                  fetched=T0 + (hours + 1) * HOUR, prepared=prepared)  # fmt: skip


def results(sessions: Sessions) -> dict[str, Any]:
    """What post-processing decided, by URL (ids may differ between databases)."""
    with sessions() as s:
        url = dict(s.execute(select(Article.id, Article.url)).all())
        copies = s.execute(select(Article.id, Article.duplicate_of_id)).all()
        members = s.execute(select(ArticleStory.story_id, ArticleStory.article_id)).all()
        stories: dict[int, list[str]] = {}
        for story, article in members:
            stories.setdefault(story, []).append(url[article])
        return {
            "copies": {url[a]: url.get(d) if d else None for a, d in copies},
            "signatures": {
                url[r.article_id]: (r.text_hash, bytes(r.minhash), r.shingles)
                for r in s.scalars(select(ArticleSignature))
            },
            "terms": {url[f.article_id]: f.terms for f in s.scalars(select(StoryFeature))},
            "stories": sorted(sorted(found) for found in stories.values()),
        }


def test_prepared_features_give_the_results_of_computing_them(
    sessions: Sessions, tmp_path: Path
) -> None:
    coverage(sessions, prepared=True)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PendingFeatures)) == 8
    report = run_postprocess(sessions, PostprocessOptions())
    assert report.merged == 1
    assert report.links >= 2
    url = f"sqlite:///{tmp_path / 'computed.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    computed = make_session_factory(engine)
    coverage(computed, prepared=False)
    run_postprocess(computed, PostprocessOptions())
    assert results(sessions) == results(computed)
    engine.dispose()
    with sessions() as s:  # used once, then gone
        assert s.scalar(select(func.count()).select_from(PendingFeatures)) == 0


def test_features_of_a_replaced_text_are_not_used(sessions: Sessions) -> None:
    with sessions.begin() as s:
        article = store(s, "Metro", "https://m/1", texts.WIRE_TITLE, texts.WIRE)
        store(s, "Metro", "https://m/1", texts.WIRE_TITLE, texts.OWN_HARLOW_1,
              fetched=T0 + 20 * HOUR, prepared=False)  # fmt: skip
        assert s.get(PendingFeatures, article) is not None  # still those of the first text
    run_postprocess(sessions, PostprocessOptions())
    with sessions() as s:
        stored = s.get(ArticleSignature, article)
        assert stored is not None
        assert stored.text_hash == signature(texts.text(texts.OWN_HARLOW_1)).text_hash
        assert s.get(PendingFeatures, article) is None
