"""Crawl runs and fetch records. Functions take a Session and never commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Article, ArticleEvent, CrawlRun, CrawlRunOutlet, Fetch, Outlet
from storage.repository import get_or_create_outlet, url_owners


def start_run(session: Session, *, pid: int | None = None, machine: str | None = None) -> CrawlRun:
    run = CrawlRun(
        started_at=datetime.now(UTC), status="running", pid=pid, machine=machine, stats={}
    )
    session.add(run)
    session.flush()
    return run


def close_runs_of_ended_processes(
    session: Session, ended: Callable[[str | None, int | None], bool]
) -> list[int]:
    """Mark failed the unfinished runs whose process ``ended(machine, pid)`` (a crawl killed
    with SIGKILL or by the OOM killer closes nothing); returns their ids."""
    closed = []
    for run in session.scalars(select(CrawlRun).where(CrawlRun.finished_at.is_(None))).all():
        if ended(run.machine, run.pid):
            reason = f"its process (pid {run.pid}) ended without closing the run: killed or crashed"
            fail_run(session, run.id, reason)
            closed.append(run.id)
    return closed


@dataclass(slots=True)
class OutletCounts:
    discovered: int = 0
    fetched: int = 0
    new_articles: int = 0
    new_versions: int = 0
    unchanged: int = 0
    errors: int = 0
    last_error: str | None = None


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    counts: dict[str, OutletCounts],
    stats: dict[str, Any],
    reason: str | None = None,
) -> None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    run.finished_at = datetime.now(UTC)
    run.status = status
    run.reason = reason
    run.stats = stats
    for outlet_name, count in counts.items():
        outlet = get_or_create_outlet(session, outlet_name)
        row = session.scalar(
            select(CrawlRunOutlet).where(
                CrawlRunOutlet.run_id == run_id, CrawlRunOutlet.outlet_id == outlet.id
            )
        )
        if row is None:
            row = CrawlRunOutlet(run_id=run_id, outlet_id=outlet.id)
            session.add(row)
        row.discovered = count.discovered
        row.fetched = count.fetched
        row.new_articles = count.new_articles
        row.new_versions = count.new_versions
        row.unchanged = count.unchanged
        row.errors = count.errors
        row.last_error = count.last_error
    session.flush()


def fail_run(session: Session, run_id: int, reason: str, status: str = "failed") -> None:
    """Close a run that crashed, was killed, was stopped or never started."""
    run = session.get(CrawlRun, run_id)
    if run is not None and run.finished_at is None:
        run.finished_at = datetime.now(UTC)
        run.status = status
        run.reason = reason
        session.flush()


def run_status(session: Session, run_id: int) -> str | None:
    run = session.get(CrawlRun, run_id)
    return run.status if run is not None else None


def _live_articles(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` pointing at stored articles only.

    A crawl logs its fetches a few seconds after storing them; meanwhile post-processing (of
    this crawl, or of another one that ended) may have merged an article into an older copy
    and deleted it. Its fetch rows then belong to the article that owns its URL now, as the
    merge's own fetch rows do; without this, the foreign key would reject the whole batch.
    """
    wanted = {row["article_id"] for row in rows if row.get("article_id") is not None}
    if not wanted:
        return rows
    live = set(session.scalars(select(Article.id).where(Article.id.in_(wanted))))
    gone = wanted - live
    if gone:
        owners = url_owners(session, (row["url"] for row in rows if row.get("article_id") in gone))
        for row in rows:
            if row.get("article_id") in gone:
                row["article_id"] = owners.get(row["url"])
    return rows


def add_fetches(session: Session, run_id: int | None, rows: Iterable[dict[str, Any]]) -> None:
    """Insert fetch rows (one executemany: a crawl logs thousands); ``outlet`` names are
    resolved to ids, and articles merged away since the fetch to the article now owning the
    URL (see :func:`_live_articles`)."""
    outlet_ids: dict[str, int] = {}
    values = []
    checks = []
    for data in _live_articles(session, [dict(row) for row in rows]):
        name = data.pop("outlet", None)
        next_check_at = data.pop("next_check_at", None)
        if name and name not in outlet_ids:
            outlet_ids[name] = get_or_create_outlet(session, name).id
        values.append({**data, "run_id": run_id, "outlet_id": outlet_ids.get(name)})
        if next_check_at is not None and data.get("article_id") is not None:
            checks.append(
                {
                    "article": data["article_id"],
                    "at": data["fetched_at"],
                    "next": next_check_at,
                    "etag": data.get("etag"),
                    "modified": data.get("last_modified"),
                }
            )
    if values:
        session.execute(insert(Fetch), values)
    if checks:  # fetches that found their article unchanged: only its check times move
        articles = Article.__table__
        session.execute(
            update(articles)
            .where(articles.c.id == bindparam("article"))
            .values(
                last_checked_at=bindparam("at"),
                next_check_at=bindparam("next"),
                # validators the server sends now (say it started to): the next check is cheaper
                etag=func.coalesce(bindparam("etag", type_=String), articles.c.etag),
                last_modified=func.coalesce(
                    bindparam("modified", type_=String), articles.c.last_modified
                ),
            ),
            checks,
        )


def run_summary(session: Session, run_id: int) -> list[tuple[str, CrawlRunOutlet]]:
    rows = session.execute(
        select(Outlet.name, CrawlRunOutlet)
        .join(CrawlRunOutlet, CrawlRunOutlet.outlet_id == Outlet.id)
        .where(CrawlRunOutlet.run_id == run_id)
        .order_by(Outlet.name)
    )
    return [(name, row) for name, row in rows]


def outlet_messages(session: Session, run_id: int) -> dict[str, list[str]]:
    """Each outlet's distinct error messages in the run (kept with its stats), in order."""
    stats = session.scalar(select(CrawlRun.stats).where(CrawlRun.id == run_id)) or {}
    prefix, suffix = "newsmon/outlet/", "/messages"
    return {
        key[len(prefix) : -len(suffix)]: [str(m) for m in value]
        for key, value in stats.items()
        if key.startswith(prefix) and key.endswith(suffix) and isinstance(value, list)
    }


@dataclass(frozen=True, slots=True)
class RunEvent:
    """An article removed from its site, or back, as a run found it."""

    outlet: str
    article_id: int
    url: str
    kind: str  # "removed" | "reappeared"
    detail: str | None


def removals(session: Session, run_id: int, limit: int = 50) -> list[RunEvent]:
    """The articles the run found gone (404/410, a redirect to the home page) or back, on
    the run's outlets, in the order found: for a watchdog the news of the pass."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        return []
    outlets = select(CrawlRunOutlet.outlet_id).where(CrawlRunOutlet.run_id == run_id)
    query = (
        select(Outlet.name, Article.id, Article.url, ArticleEvent.kind, ArticleEvent.detail)
        .join(Article, Article.id == ArticleEvent.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(
            ArticleEvent.kind.in_(("removed", "reappeared")),
            ArticleEvent.at >= run.started_at,
            Article.outlet_id.in_(outlets),
        )
        .order_by(ArticleEvent.at, ArticleEvent.id)
        .limit(limit)
    )
    if run.finished_at is not None:
        query = query.where(ArticleEvent.at <= run.finished_at)
    return [RunEvent(*row) for row in session.execute(query)]


@dataclass(frozen=True, slots=True)
class FailedFetch:
    """A URL the run never got: its last error and how many attempts failed."""

    outlet: str | None
    url: str
    error: str
    attempts: int


def fetch_errors(session: Session, run_id: int, limit: int = 50) -> list[FailedFetch]:
    """The run's failed URLs, first failure first; a URL that a retry (or any later request of
    the run) fetched without an error is not among them (a redirect hop is no such fetch: a
    redirect loop's hops are answered, yet the page never comes)."""
    succeeded = aliased(Fetch)
    recovered = (
        select(succeeded.id)
        .where(
            succeeded.run_id == run_id,
            succeeded.url == Fetch.url,
            succeeded.error.is_(None),
            or_(succeeded.status.is_(None), ~succeeded.status.between(300, 399)),
        )
        .exists()
    )
    rows = session.execute(
        select(Outlet.name, Fetch.url, Fetch.error)
        .outerjoin(Outlet, Outlet.id == Fetch.outlet_id)
        .where(Fetch.run_id == run_id, Fetch.error.is_not(None), ~recovered)
        .order_by(Fetch.id)
    )
    failed: dict[str, FailedFetch] = {}
    for outlet, url, error in rows:
        earlier = failed.get(url)
        if earlier is None and len(failed) >= limit:
            continue
        attempts = earlier.attempts + 1 if earlier else 1
        failed[url] = FailedFetch(outlet, url, error, attempts)
    return list(failed.values())
