"""The fetch log: rows for every exchange, and check times of articles found unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.merge import merge_articles
from storage.models import Article, Fetch
from storage.repository import ArticleSnapshot, create_article
from storage.runs import FailedFetch, add_fetches, fetch_errors, start_run

FIRST = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _article(session: Session, url: str) -> Article:
    snapshot = ArticleSnapshot(
        outlet="Coast News",
        url=url,
        title="Ferries every half hour",
        text="The harbour authority approved the new ferry timetable.",
        content_hash="h",
        fetched_at=FIRST,
        etag='"v1"',
        last_modified="Mon, 30 Nov 2026 07:00:00 GMT",
    )
    return create_article(session, snapshot, next_check_at=FIRST + timedelta(minutes=15))


def _row(article: Article, **extra: object) -> dict[str, object]:
    return {
        "url": article.url,
        "outlet": "Coast News",
        "kind": "article",
        "fetched_at": FIRST + timedelta(hours=1),
        "status": 304,
        "article_id": article.id,
        "etag": None,
        "last_modified": None,
        **extra,
    }


def test_an_unchanged_fetch_moves_check_times_and_keeps_validators(db_session: Session) -> None:
    run = start_run(db_session)
    article = _article(db_session, "https://coast.example/ferries")
    later = FIRST + timedelta(hours=2)
    add_fetches(db_session, run.id, [_row(article, next_check_at=later)])
    db_session.expire_all()
    stored = db_session.get(Article, article.id)
    assert stored is not None
    assert stored.last_checked_at == FIRST + timedelta(hours=1)
    assert stored.next_check_at == later
    assert stored.etag == '"v1"'  # a 304 without validators keeps the stored ones
    fetches = db_session.scalars(select(Fetch).where(Fetch.article_id == article.id)).all()
    assert [(f.status, f.run_id) for f in fetches] == [(304, run.id)]


def test_new_validators_of_an_unchanged_body_are_kept_for_the_next_check(
    db_session: Session,
) -> None:
    run = start_run(db_session)
    article = _article(db_session, "https://coast.example/timetable")
    row = _row(article, status=200, etag='"v2"', next_check_at=FIRST + timedelta(hours=3))
    add_fetches(db_session, run.id, [row])
    db_session.expire_all()
    stored = db_session.get(Article, article.id)
    assert stored is not None
    assert stored.etag == '"v2"'
    assert stored.last_modified == "Mon, 30 Nov 2026 07:00:00 GMT"


def test_a_fetch_without_a_next_check_leaves_the_article_alone(db_session: Session) -> None:
    run = start_run(db_session)
    article = _article(db_session, "https://coast.example/fares")
    add_fetches(db_session, run.id, [_row(article, status=200, etag='"v9"')])
    db_session.expire_all()
    stored = db_session.get(Article, article.id)
    assert stored is not None
    assert stored.etag == '"v1"'
    assert stored.last_checked_at == FIRST


def test_fetches_of_an_article_merged_away_meanwhile_go_to_the_article_kept(
    db_session: Session,
) -> None:
    """Post-processing may merge an article between its fetch and the fetch log's next write:
    the log is not lost (the foreign key would reject the whole batch), it follows the merge."""
    run = start_run(db_session)
    kept = _article(db_session, "https://coast.example/ferries")
    dropped = _article(db_session, "https://coast.example/ferries?print=1")
    other = _article(db_session, "https://coast.example/fares")
    merge_articles(db_session, kept.id, dropped.id, FIRST + timedelta(hours=1))
    rows = [
        _row(dropped, url="https://coast.example/ferries?print=1", status=200),
        _row(other, status=200),
        {**_row(other, status=200), "article_id": 999_999, "url": "https://coast.example/gone"},
    ]
    add_fetches(db_session, run.id, rows)
    logged = db_session.execute(select(Fetch.url, Fetch.article_id).where(Fetch.run_id == run.id))
    assert sorted(logged, key=lambda r: r.url) == [
        ("https://coast.example/fares", other.id),
        ("https://coast.example/ferries?print=1", kept.id),
        ("https://coast.example/gone", None),
    ]


def test_failed_urls_leave_out_requests_a_retry_recovered(db_session: Session) -> None:
    run = start_run(db_session)

    def fetch(url: str, error: str | None, minutes: int) -> dict[str, object]:
        at = FIRST + timedelta(minutes=minutes)
        status = 500 if error else 200
        return {"url": url, "outlet": "Coast News", "kind": "page", "fetched_at": at,
                "status": status, "error": error}  # fmt: skip

    down, flaky = "https://coast.example/down", "https://coast.example/flaky"
    add_fetches(db_session, run.id, [
        fetch(down, "500 Internal Server Error", 0), fetch(flaky, "500 Internal Server Error", 0),
        fetch(down, "500 Internal Server Error", 1), fetch(flaky, None, 1),
        fetch(down, "connection refused", 2),
    ])  # fmt: skip

    assert fetch_errors(db_session, run.id) == [
        FailedFetch("Coast News", down, "connection refused", attempts=3)
    ]


def test_a_redirect_hop_does_not_count_as_getting_the_url(db_session: Session) -> None:
    """A redirect loop: both hops were answered (302), yet the page never came."""
    run = start_run(db_session)
    a, b = "https://coast.example/a", "https://coast.example/b"
    loop = f"redirect loop: {a} -> {b} -> {a}"
    add_fetches(db_session, run.id, [
        {"url": a, "outlet": "Coast News", "kind": "article", "fetched_at": FIRST, "status": 302,
         "error": None},
        {"url": b, "outlet": "Coast News", "kind": "article", "fetched_at": FIRST, "status": 302,
         "error": None},
        {"url": b, "outlet": "Coast News", "kind": "article", "fetched_at": FIRST, "status": None,
         "error": loop},
    ])  # fmt: skip

    assert fetch_errors(db_session, run.id) == [FailedFetch("Coast News", b, loop, attempts=1)]
