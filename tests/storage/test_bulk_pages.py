"""Storing a batch of pages at once gives the same rows and outcomes as storing them one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.history import Outcome, record_page, record_pages
from pipeline.versions import content_hash
from storage.models import Article, ArticleUrl, Outlet, Version
from storage.repository import ArticleSnapshot, version_texts
from storage.search import search_articles

SCHEDULE = [(timedelta(days=1), timedelta(hours=1)), (timedelta(days=7), timedelta(days=1))]
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

TOPICS = [
    "harbour dredging", "council budget", "rail strike", "museum reopening", "flood defences",
    "school meals", "wind farm", "hospital waiting lists",
]  # fmt: skip


def _text(topic: str, extra: str = "") -> str:
    return (
        f"The {topic} plan was debated for three hours on Tuesday evening. Officials said the "
        f"{topic} work would begin in spring, while residents asked who would pay for it and "
        f"how long the disruption would last. A second hearing on the {topic} is set for "
        f"January, when the final costs are due to be published by the county. {extra}"
    ).strip()


def _page(outlet: str, url: str, topic: str, *, aliases: tuple[str, ...] = (), extra: str = "",
          minutes: int = 0) -> ArticleSnapshot:  # fmt: skip
    title = f"{topic.title()}: what happens next"
    text = _text(topic, extra)
    return ArticleSnapshot(
        outlet=outlet,
        url=url,
        aliases=list(aliases),
        title=title,
        text=text,
        authors=["Kim Doe"],
        content_hash=content_hash(title, text, ("Kim Doe",)),
        fetched_at=T0 + timedelta(minutes=minutes),
        published_at=T0 - timedelta(hours=2),
        language="en",
        raw_html=f"<html><body><h1>{title}</h1><p>{text}</p></body></html>".encode(),
        raw_content_type="text/html",
        etag=f'"{url}"',
        raw_hash=url,
    )


def _batch() -> list[ArticleSnapshot]:
    a, b = "https://a.example", "https://b.example"
    return [
        _page("A", f"{a}/1", TOPICS[0], aliases=(f"{a}/1?utm_source=rss",)),
        _page("A", f"{a}/2", TOPICS[1]),
        # a page reached under a URL of the stored article: a recheck, not a new article
        _page("A", f"{a}/stored-alias", TOPICS[2], aliases=(f"{a}/stored",), extra="Updated."),
        # a second URL of page 1 in the same batch: one article, with both URLs
        _page("A", f"{a}/1-amp", TOPICS[0], aliases=(f"{a}/1",)),
        _short_page("B", f"{b}/short"),
        _page("B", f"{b}/3", TOPICS[3], minutes=1),
        # shares a URL with a page that waits for the stored article: must wait behind it
        _page("B", f"{b}/4", TOPICS[4], aliases=(f"{a}/stored-alias",)),
        _page("B", f"{b}/5", TOPICS[5], minutes=2),
    ]


def _short_page(outlet: str, url: str) -> ArticleSnapshot:
    """A page whose extraction is too short to be an article: rejected, stores nothing."""
    page = _page(outlet, url, "notice")
    page.text = "Subscribe to read this story."
    page.content_hash = content_hash(page.title, page.text, ("Kim Doe",))
    return page


def _store_known(session: Session) -> None:
    record_page(session, _page("A", "https://a.example/stored", TOPICS[2], minutes=-60), SCHEDULE)
    session.flush()


def _dump(session: Session) -> dict[str, Any]:
    articles = session.scalars(select(Article).order_by(Article.id)).all()
    dump: dict[str, Any] = {}
    for article in articles:
        versions = session.scalars(
            select(Version).where(Version.article_id == article.id).order_by(Version.number)
        ).all()
        dump[article.url] = {
            "id": article.id,
            "outlet": session.scalar(select(Outlet.name).where(Outlet.id == article.outlet_id)),
            "fields": (
                article.title,
                article.text,
                article.authors,
                article.language,
                article.first_seen_at,
                article.last_checked_at,
                article.last_changed_at,
                article.next_check_at,
                article.etag,
                article.raw_hash,
            ),
            "aliases": sorted(
                session.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == article.id))
            ),
            "versions": [
                (v.number, v.title, v.content_hash, v.codec, v.fetched_at) for v in versions
            ],
            "texts": version_texts(versions),
        }
    return dump


def test_a_batch_of_pages_stores_what_one_by_one_stores(db_engine: Engine) -> None:
    batch = _batch()
    with Session(db_engine) as session:
        _store_known(session)
        one_by_one = [record_page(session, page, SCHEDULE) for page in batch]
        expected = _comparable(session, one_by_one)
        session.rollback()
    with Session(db_engine) as session:
        _store_known(session)
        together = record_pages(session, batch, SCHEDULE)
        assert _comparable(session, together) == expected
        session.rollback()
    kinds = [outcome.kind for outcome in one_by_one]
    assert kinds == ["new-article", "new-article", "new-version", "unchanged", "rejected",
                     "new-article", "new-version", "new-article"]  # fmt: skip


def _comparable(session: Session, outcomes: list[Outcome]) -> tuple[Any, ...]:
    """Outcomes and stored rows with article ids replaced by URLs (PostgreSQL's sequences
    do not roll back, so ids differ between the two runs)."""
    dump = _dump(session)
    url_of = {article["id"]: url for url, article in dump.items()}
    for article in dump.values():
        del article["id"]
    named = [(o.kind, url_of.get(o.article_id), o.version, o.reason) for o in outcomes]
    hits = [h.url for h in search_articles(session, "dredging OR museum OR strike")]
    return named, dump, hits


def test_new_articles_of_a_batch_are_searchable_and_have_their_first_version(
    db_session: Session,
) -> None:
    batch = [_page("A", f"https://a.example/{n}", topic) for n, topic in enumerate(TOPICS)]
    outcomes = record_pages(db_session, batch, SCHEDULE)
    assert [o.kind for o in outcomes] == ["new-article"] * len(TOPICS)
    assert all(isinstance(o, Outcome) and o.version == 1 for o in outcomes)
    hits = search_articles(db_session, '"wind farm"')
    assert [h.url for h in hits] == ["https://a.example/6"]
    stored = db_session.scalars(select(Version).order_by(Version.article_id)).all()
    assert version_texts([stored[3]]) == {1: _text(TOPICS[3])}
    assert stored[3].stored_bytes > 0
    assert stored[3].raw_html is not None


def test_a_text_stored_with_a_counter_line_is_no_edit_once_counters_are_dropped(
    db_session: Session,
) -> None:
    """Texts stored before a volatile-line rule existed still hold such lines; the next check
    extracts the page without them, and that is not a new version."""
    old = _page("A", "https://a.example/c", TOPICS[1], extra="\n12 comments\nAdvertisement")
    record_page(db_session, old, SCHEDULE)
    later = _page("A", "https://a.example/c", TOPICS[1], minutes=60)
    assert record_page(db_session, later, SCHEDULE).kind == "unchanged"
