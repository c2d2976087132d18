"""The incremental job on a database: links, merges, regrouping, stories, marks (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.config import StoryConfig
from pipeline.postprocess import PostprocessOptions, after_crawl_run, run_postprocess
from storage.models import Article, ArticleStory, CrawlRun, Story
from storage.repository import version_content
from storage.search import search_articles
from tests.dedupe import texts
from tests.dedupe.helpers import T0, store

HOUR = timedelta(hours=1)
Sessions = sessionmaker[Session]


def run(sessions: Sessions, *stories: StoryConfig) -> object:
    return run_postprocess(sessions, PostprocessOptions(stories=stories))


def duplicates(sessions: Sessions) -> dict[int, int | None]:
    with sessions() as session:
        return dict(session.execute(select(Article.id, Article.duplicate_of_id)).all())


def story_members(sessions: Sessions) -> dict[str, set[int]]:
    with sessions() as session:
        rows = session.execute(select(Story.name, ArticleStory.article_id).join(ArticleStory))
        found: dict[str, set[int]] = {}
        for name, article_id in rows:
            found.setdefault(name, set()).add(article_id)
        return found


def wire_and_coverage(sessions: Sessions) -> dict[str, int]:
    with sessions.begin() as s:
        return {
            "verbatim": store(s, "Lakeside", "https://l/1", texts.WIRE_TITLE, texts.WIRE,
                              published=T0 + 2 * HOUR),
            "trimmed": store(s, "Metro", "https://m/1", texts.WIRE_TITLE, texts.WIRE_TRIMMED,
                             published=T0 + 3 * HOUR),
            "exact": store(s, "Valley", "https://v/1", texts.WIRE_TITLE_ALT, texts.WIRE,
                           published=T0 + 4 * HOUR),
            "own": store(s, "County", "https://c/1", texts.OWN_HARLOW_1_TITLE,
                         texts.OWN_HARLOW_1, published=T0 + 5 * HOUR),
            "similar": store(s, "Metro", "https://m/2", texts.OTHER_FIRE_1_TITLE,
                             texts.OTHER_FIRE_1, published=T0 + 6 * HOUR),
        }  # fmt: skip


def test_copies_point_at_the_earliest_published_copy(sessions: Sessions) -> None:
    ids = wire_and_coverage(sessions)
    run(sessions)
    origin = ids["verbatim"]
    assert duplicates(sessions) == {
        origin: None, ids["trimmed"]: origin, ids["exact"]: origin,
        ids["own"]: None, ids["similar"]: None,
    }  # fmt: skip


def test_an_earlier_copy_found_later_becomes_the_origin_of_all(sessions: Sessions) -> None:
    ids = wire_and_coverage(sessions)
    run(sessions)
    with sessions.begin() as s:
        earliest = store(s, "Harbor", "https://h/1", texts.WIRE_TITLE, texts.WIRE_TRIMMED,
                         published=T0, fetched=T0 + 20 * HOUR)  # fmt: skip
    report = run(sessions)
    assert report.articles == 1  # type: ignore[attr-defined]
    found = duplicates(sessions)
    assert found[earliest] is None
    for key in ("verbatim", "trimmed", "exact"):
        assert found[ids[key]] == earliest


def test_a_rewritten_copy_leaves_its_group(sessions: Sessions) -> None:
    ids = wire_and_coverage(sessions)
    run(sessions)
    with sessions.begin() as s:
        store(s, "Metro", "https://m/1", "Metro's own story", texts.OWN_HARLOW_2,
              fetched=T0 + 30 * HOUR)  # fmt: skip
    run(sessions)
    found = duplicates(sessions)
    assert found[ids["trimmed"]] is None
    assert found[ids["exact"]] == ids["verbatim"]


def test_same_text_twice_in_one_outlet_is_merged_into_the_older_row(sessions: Sessions) -> None:
    with sessions.begin() as s:
        older = store(s, "River", "https://r/a", "Draft", texts.OTHER_FIRE_2[:3], fetched=T0)
        store(s, "River", "https://r/a", "Warehouse fire", texts.OTHER_FIRE_2,
              fetched=T0 + 2 * HOUR)  # fmt: skip
        newer = store(s, "River", "https://r/print/a", "Warehouse fire (print)",
                      texts.OTHER_FIRE_2, fetched=T0 + HOUR)  # fmt: skip
        s.add(Story(name="Ellison", kind="auto"))  # not configured: left alone by the job
        s.flush()
        story = s.scalar(select(Story.id).where(Story.name == "Ellison"))
        s.add(ArticleStory(article_id=newer, story_id=story))
    report = run(sessions)
    assert report.merges == [(older, newer)]  # type: ignore[attr-defined]
    with sessions() as s:
        (article,) = s.scalars(select(Article)).all()
        assert article.id == older
        assert [u.url for u in article.urls] == ["https://r/print/a"]
        assert [e.kind for e in article.events] == ["merged"]
        history = [(v.number, v.title, version_content(s, v)[0]) for v in article.versions]
        assert history == [
            (1, "Draft", texts.text(texts.OTHER_FIRE_2[:3])),
            (2, "Warehouse fire (print)", texts.text(texts.OTHER_FIRE_2)),  # seen first there
            (3, "Warehouse fire", texts.text(texts.OTHER_FIRE_2)),
        ]
        assert article.title == "Warehouse fire"
        assert [link.story.name for link in article.stories] == ["Ellison"]
        hits = search_articles(s, '"Castell Logistics"')
        assert [h.article_id for h in hits] == [older]


def test_only_new_versions_are_processed(sessions: Sessions) -> None:
    wire_and_coverage(sessions)
    assert run(sessions).articles == 5  # type: ignore[attr-defined]
    assert run(sessions).articles == 0  # type: ignore[attr-defined]
    with sessions.begin() as s:
        store(s, "County", "https://c/2", texts.UNRELATED_1_TITLE, texts.UNRELATED_1)
    assert run(sessions).articles == 1  # type: ignore[attr-defined]


def test_auto_story_needs_two_outlets_and_takes_the_copies_along(sessions: Sessions) -> None:
    with sessions.begin() as s:
        own = store(s, "County", "https://c/1", texts.OWN_HARLOW_1_TITLE, texts.OWN_HARLOW_1,
                    published=T0 + 5 * HOUR)  # fmt: skip
        follow_up = store(s, "County", "https://c/3", texts.OWN_HARLOW_2_TITLE,
                          texts.OWN_HARLOW_2, published=T0 + 9 * HOUR)  # fmt: skip
    run(sessions)
    assert story_members(sessions) == {}  # one outlet's two articles: no story yet
    ids = wire_and_coverage(sessions)
    run(sessions)
    with sessions() as s:
        auto = s.scalars(select(Story).where(Story.kind == "auto")).all()
    assert [story.name for story in auto] == [texts.WIRE_TITLE]
    assert story_members(sessions)[texts.WIRE_TITLE] == {
        own,
        follow_up,
        ids["verbatim"],
        ids["trimmed"],
        ids["exact"],
    }


def test_configured_stories_follow_their_query_and_limits(sessions: Sessions) -> None:
    ids = wire_and_coverage(sessions)
    last_paragraph = StoryConfig("Reopening", '"block by block"')  # cut from the trimmed copy
    run(sessions, last_paragraph, StoryConfig("Ellison", '"Port Ellison"', outlets=("County",)))
    members = story_members(sessions)
    assert members["Reopening"] == {ids["verbatim"], ids["trimmed"], ids["exact"]}
    assert "Ellison" not in members  # the only match is in Metro
    changed = StoryConfig("Reopening", '"block by block"', outlets=("Lakeside", "Valley"))
    report = run(sessions, changed)
    assert report.stories_rematched == 1  # type: ignore[attr-defined]
    assert story_members(sessions)["Reopening"] == {ids["verbatim"], ids["exact"]}
    with sessions() as s:
        assert s.scalar(select(Story).where(Story.name == "Ellison")) is None  # unconfigured


def test_a_configured_story_named_like_an_automatic_one_leaves_it_whole(
    sessions: Sessions,
) -> None:
    with sessions.begin() as s:
        store(s, "County", "https://c/1", texts.OWN_HARLOW_1_TITLE, texts.OWN_HARLOW_1,
              published=T0 + 5 * HOUR)  # fmt: skip
    wire_and_coverage(sessions)
    run(sessions)
    automatic = story_members(sessions)[texts.WIRE_TITLE]
    promoted = StoryConfig(texts.WIRE_TITLE, '"block by block"')  # a user copies its name
    run(sessions, promoted)
    members = story_members(sessions)
    assert members[f"{texts.WIRE_TITLE} (automatic)"] == automatic  # renamed, not taken over
    assert texts.WIRE_TITLE in members
    run(sessions)  # the configured story removed again: the automatic one is still there
    assert story_members(sessions) == {f"{texts.WIRE_TITLE} (automatic)": automatic}


def test_a_failing_job_is_recorded_not_raised(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import postprocess
    from pipeline.config import Config

    with sessions.begin() as s:
        run_row = CrawlRun()
        s.add(run_row)
        s.flush()
        run_id = run_row.id
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(postprocess, "run_postprocess", broken)
    after_crawl_run(Config(path=__import__("pathlib").Path("x.toml")), url, run_id)
    with sessions() as s:
        stats = s.get(CrawlRun, run_id).stats  # type: ignore[union-attr]
    assert stats["postprocess"] == {"error": "RuntimeError: disk full"}
