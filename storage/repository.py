"""Reads and writes of newsmon's data. Functions take a Session and never commit.

The caller owns the transaction (``with factory.begin() as session``), so an article, its
aliases, its version and its search-index entry are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.models import (
    Article,
    ArticleStory,
    ArticleUrl,
    CrawlRun,
    CrawlRunOutlet,
    Fetch,
    Outlet,
    Story,
    Version,
)
from storage.search import index_article


@dataclass(slots=True)
class ArticleSnapshot:
    """One successfully extracted page, as storage needs it."""

    outlet: str
    url: str
    title: str
    text: str
    content_hash: str
    fetched_at: datetime
    aliases: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    raw_html: bytes | None = None
    raw_encoding: str | None = None
    raw_content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    raw_hash: str | None = None


@dataclass(frozen=True, slots=True)
class StoreResult:
    article_id: int
    created: bool
    new_version: int | None


def get_or_create_outlet(session: Session, name: str) -> Outlet:
    outlet = session.scalar(select(Outlet).where(Outlet.name == name))
    if outlet is None:
        outlet = Outlet(name=name)
        session.add(outlet)
        session.flush()
    return outlet


def known_article_urls(session: Session, outlet_names: Iterable[str] = ()) -> set[str]:
    """Canonical URLs and aliases of stored articles (of the given outlets, or all)."""
    names = list(outlet_names)
    canonical = select(Article.url).join(Outlet)
    aliases = select(ArticleUrl.url).join(Article).join(Outlet)
    if names:
        canonical = canonical.where(Outlet.name.in_(names))
        aliases = aliases.where(Outlet.name.in_(names))
    return set(session.scalars(canonical)) | set(session.scalars(aliases))


def find_article(session: Session, urls: Sequence[str]) -> Article | None:
    """The article known under any of ``urls`` (canonical URL first, then aliases)."""
    if not urls:
        return None
    article = session.scalar(select(Article).where(Article.url.in_(urls)).limit(1))
    if article is not None:
        return article
    return session.scalar(select(Article).join(ArticleUrl).where(ArticleUrl.url.in_(urls)).limit(1))


def store_snapshot(session: Session, snapshot: ArticleSnapshot) -> StoreResult:
    """Create the article or add a version when its content hash changed; keep every URL."""
    urls = [snapshot.url, *[u for u in snapshot.aliases if u != snapshot.url]]
    article = find_article(session, urls)
    created = article is None
    if article is None:
        outlet = get_or_create_outlet(session, snapshot.outlet)
        article = Article(outlet_id=outlet.id, url=snapshot.url, first_seen_at=snapshot.fetched_at)
        session.add(article)
        session.flush()
    _add_aliases(session, article, urls)
    _copy_metadata(article, snapshot)
    latest = latest_version(session, article.id)
    new_number: int | None = None
    if latest is None or latest.content_hash != snapshot.content_hash:
        new_number = 1 if latest is None else latest.number + 1
        session.add(_version_from(snapshot, article.id, new_number))
        article.title = snapshot.title
        article.authors = list(snapshot.authors)
        article.last_changed_at = snapshot.fetched_at
        session.flush()
        index_article(session, article.id, snapshot.title, snapshot.text)
    session.flush()
    return StoreResult(article_id=article.id, created=created, new_version=new_number)


def _version_from(snapshot: ArticleSnapshot, article_id: int, number: int) -> Version:
    return Version(
        article_id=article_id,
        number=number,
        fetched_at=snapshot.fetched_at,
        title=snapshot.title,
        text=snapshot.text,
        authors=list(snapshot.authors),
        content_hash=snapshot.content_hash,
        raw_html=snapshot.raw_html,
        raw_encoding=snapshot.raw_encoding,
        raw_content_type=snapshot.raw_content_type,
    )


def _copy_metadata(article: Article, snapshot: ArticleSnapshot) -> None:
    article.last_checked_at = snapshot.fetched_at
    article.published_at = snapshot.published_at or article.published_at
    article.modified_at = snapshot.modified_at or article.modified_at
    article.language = snapshot.language or article.language
    article.site_name = snapshot.site_name or article.site_name
    article.description = snapshot.description or article.description
    article.etag = snapshot.etag
    article.last_modified = snapshot.last_modified
    article.raw_hash = snapshot.raw_hash
    article.removed_at = None


def _add_aliases(session: Session, article: Article, urls: Iterable[str]) -> None:
    taken = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(list(urls)))))
    for url in urls:
        if url == article.url or url in taken:
            continue
        session.add(ArticleUrl(article_id=article.id, url=url, kind="alias"))
        taken.add(url)


def latest_version(session: Session, article_id: int) -> Version | None:
    return session.scalar(
        select(Version).where(Version.article_id == article_id).order_by(Version.number.desc())
    )


def get_version(session: Session, article_id: int, number: int) -> Version | None:
    return session.scalar(
        select(Version).where(Version.article_id == article_id, Version.number == number)
    )


def resolve_article(session: Session, ref: str) -> Article | None:
    """An article by id (``"12"``) or by any URL it is known under."""
    ref = ref.strip()
    if ref.isdigit():
        return session.get(Article, int(ref))
    return find_article(session, [ref, ref.rstrip("/")])


# --- Crawl runs and fetches ------------------------------------------------------------------


def start_run(session: Session, *, pid: int | None = None) -> CrawlRun:
    run = CrawlRun(started_at=datetime.now(UTC), status="running", pid=pid, stats={})
    session.add(run)
    session.flush()
    return run


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


def fail_run(session: Session, run_id: int, reason: str) -> None:
    """Close a run that crashed, was killed or never started."""
    run = session.get(CrawlRun, run_id)
    if run is not None and run.finished_at is None:
        run.finished_at = datetime.now(UTC)
        run.status = "failed"
        run.reason = reason
        session.flush()


def add_fetches(session: Session, run_id: int | None, rows: Iterable[dict[str, Any]]) -> None:
    """Insert fetch rows; ``outlet`` names are resolved to ids."""
    outlet_ids: dict[str, int] = {}
    objects = []
    for row in rows:
        data = dict(row)
        name = data.pop("outlet", None)
        if name and name not in outlet_ids:
            outlet_ids[name] = get_or_create_outlet(session, name).id
        objects.append(
            Fetch(run_id=run_id, outlet_id=outlet_ids.get(name) if name else None, **data)
        )
    session.add_all(objects)
    session.flush()


def run_summary(session: Session, run_id: int) -> list[tuple[str, CrawlRunOutlet]]:
    rows = session.execute(
        select(Outlet.name, CrawlRunOutlet)
        .join(CrawlRunOutlet, CrawlRunOutlet.outlet_id == Outlet.id)
        .where(CrawlRunOutlet.run_id == run_id)
        .order_by(Outlet.name)
    )
    return [(name, row) for name, row in rows]


def fetch_errors(session: Session, run_id: int, limit: int = 50) -> list[Fetch]:
    return list(
        session.scalars(
            select(Fetch)
            .where(Fetch.run_id == run_id, Fetch.error.is_not(None))
            .order_by(Fetch.id)
            .limit(limit)
        )
    )


# --- Export ------------------------------------------------------------------------------------


def iter_articles(session: Session, batch: int = 200) -> Iterator[Article]:
    """All articles with their outlet, URLs, versions and stories, in id order, in batches."""
    last_id = 0
    while True:
        articles = list(
            session.scalars(
                select(Article)
                .where(Article.id > last_id)
                .order_by(Article.id)
                .limit(batch)
                .options(
                    selectinload(Article.outlet),
                    selectinload(Article.urls),
                    selectinload(Article.versions),
                    selectinload(Article.stories).selectinload(ArticleStory.story),
                )
            )
        )
        if not articles:
            return
        yield from articles
        last_id = articles[-1].id
        session.expunge_all()


def article_record(article: Article, *, include_text: bool = True) -> dict[str, Any]:
    """The export record of one article (the JSONL contract)."""
    return {
        "id": article.id,
        "outlet": article.outlet.name,
        "url": article.url,
        "canonical_url": article.url,
        "title": article.title,
        "authors": list(article.authors or []),
        "published_at": _iso(article.published_at),
        "modified_at": _iso(article.modified_at),
        "first_seen_at": _iso(article.first_seen_at),
        "last_checked_at": _iso(article.last_checked_at),
        "language": article.language,
        "site_name": article.site_name,
        "description": article.description,
        "aliases": [u.url for u in article.urls],
        "removed_at": _iso(article.removed_at),
        "duplicate_of": article.duplicate_of_id,
        "stories": sorted(link.story.name for link in article.stories),
        "versions": [
            {
                "number": v.number,
                "fetched_at": _iso(v.fetched_at),
                "title": v.title,
                **({"text": v.text} if include_text else {}),
                "authors": list(v.authors or []),
                "content_hash": v.content_hash,
            }
            for v in article.versions
        ],
    }


def counts(session: Session) -> dict[str, int]:
    return {
        "outlets": session.scalar(select(func.count()).select_from(Outlet)) or 0,
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "versions": session.scalar(select(func.count()).select_from(Version)) or 0,
        "fetches": session.scalar(select(func.count()).select_from(Fetch)) or 0,
    }


def articles_per_outlet(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Outlet.name, func.count(Article.id))
        .join(Article, Article.outlet_id == Outlet.id, isouter=True)
        .group_by(Outlet.name)
        .order_by(Outlet.name)
    )
    return [(name, count) for name, count in rows]


def recent_articles(session: Session, limit: int = 10) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .options(selectinload(Article.outlet))
            .order_by(Article.first_seen_at.desc(), Article.id.desc())
            .limit(limit)
        )
    )


def sync_stories(session: Session, stories: Iterable[tuple[str, str]]) -> None:
    """Make the configured stories exist (name, query); matching is done by a later job."""
    for name, query in stories:
        story = session.scalar(select(Story).where(Story.name == name))
        if story is None:
            session.add(Story(name=name, query=query, kind="configured"))
        else:
            story.query = query
    session.flush()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
