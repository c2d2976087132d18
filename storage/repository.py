"""Reads and writes of newsmon's data. Functions take a Session and never commit.

The caller owns the transaction (``with factory.begin() as session``), so an article, its
aliases, its version and its search-index entry are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.blobs import DELTA, PLAIN, pack, unpack_raw, unpack_text
from storage.models import Article, ArticleEvent, ArticleUrl, Outlet, Story, Version
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
    raw_content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    raw_hash: str | None = None


@dataclass(frozen=True, slots=True)
class KnownArticle:
    """What discovery and rechecks need to know about a stored article."""

    id: int
    outlet: str
    url: str
    last_checked_at: datetime | None
    next_check_at: datetime | None
    etag: str | None
    last_modified: str | None
    raw_hash: str | None
    removed: bool


@dataclass(frozen=True, slots=True)
class ChangeStats:
    words_added: int = 0
    words_removed: int = 0
    title_changed: bool = False
    labels: tuple[str, ...] = ()


def get_or_create_outlet(session: Session, name: str) -> Outlet:
    outlet = session.scalar(select(Outlet).where(Outlet.name == name))
    if outlet is None:
        outlet = Outlet(name=name)
        session.add(outlet)
        session.flush()
    return outlet


def known_articles(session: Session, outlet_names: Iterable[str] = ()) -> dict[str, KnownArticle]:
    """Every URL (canonical and alias) of the stored articles of ``outlet_names`` (or all)."""
    names = list(outlet_names)
    statement = select(Article, Outlet.name).join(Outlet)
    if names:
        statement = statement.where(Outlet.name.in_(names))
    known: dict[str, KnownArticle] = {}
    by_id: dict[int, KnownArticle] = {}
    for article, outlet in session.execute(statement).all():
        item = _known(article, outlet)
        known[article.url] = by_id[article.id] = item
    aliases = select(ArticleUrl.url, ArticleUrl.article_id).where(
        ArticleUrl.article_id.in_(list(by_id))
    )
    for url, article_id in session.execute(aliases).all():
        known.setdefault(url, by_id[article_id])
    return known


def due_articles(
    session: Session, outlet_names: Iterable[str], now: datetime, *, include_all: bool = False
) -> list[KnownArticle]:
    """Articles to fetch again, most overdue first (``include_all``: every live article)."""
    statement = select(Article, Outlet.name).join(Outlet)
    names = list(outlet_names)
    if names:
        statement = statement.where(Outlet.name.in_(names))
    if not include_all:
        statement = statement.where(Article.next_check_at.is_not(None))
        statement = statement.where(Article.next_check_at <= now)
    statement = statement.order_by(Article.next_check_at.asc().nulls_last(), Article.id)
    return [_known(article, outlet) for article, outlet in session.execute(statement).all()]


def _known(article: Article, outlet: str) -> KnownArticle:
    return KnownArticle(
        id=article.id,
        outlet=outlet,
        url=article.url,
        last_checked_at=article.last_checked_at,
        next_check_at=article.next_check_at,
        etag=article.etag,
        last_modified=article.last_modified,
        raw_hash=article.raw_hash,
        removed=article.removed_at is not None,
    )


def find_article(session: Session, urls: Sequence[str]) -> Article | None:
    """The article known under any of ``urls`` (canonical URL first, then aliases)."""
    if not urls:
        return None
    article = session.scalar(select(Article).where(Article.url.in_(urls)).limit(1))
    if article is not None:
        return article
    return session.scalar(select(Article).join(ArticleUrl).where(ArticleUrl.url.in_(urls)).limit(1))


def create_article(session: Session, snapshot: ArticleSnapshot) -> Article:
    """A new article row with its aliases (its first version is added separately)."""
    outlet = get_or_create_outlet(session, snapshot.outlet)
    article = Article(outlet_id=outlet.id, url=snapshot.url, first_seen_at=snapshot.fetched_at)
    session.add(article)
    session.flush()
    add_aliases(session, article, [snapshot.url, *snapshot.aliases])
    return article


def add_aliases(session: Session, article: Article, urls: Iterable[str]) -> None:
    """Record every other URL the article was reached under (URLs owned elsewhere are left)."""
    wanted = [u for u in dict.fromkeys(urls) if u and u != article.url]
    if not wanted:
        return
    taken = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(wanted))))
    taken |= set(session.scalars(select(Article.url).where(Article.url.in_(wanted))))
    for url in wanted:
        if url not in taken:
            session.add(ArticleUrl(article_id=article.id, url=url, kind="alias"))


def stored_times(session: Session, article_id: int, content_hash: str) -> int:
    """How many versions of the article already have this content."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Version)
            .where(Version.article_id == article_id, Version.content_hash == content_hash)
        )
        or 0
    )


def add_version(
    session: Session, article: Article, snapshot: ArticleSnapshot, stats: ChangeStats
) -> Version:
    """Store a new version, compressed against the article's keyframe, and make it current."""
    latest = latest_version(session, article.id)
    keyframe = _keyframe(session, article.id)
    base = version_content(session, keyframe) if keyframe is not None else None
    packed = pack(snapshot.text, snapshot.raw_html, base)
    version = Version(
        article_id=article.id,
        number=1 if latest is None else latest.number + 1,
        fetched_at=snapshot.fetched_at,
        title=snapshot.title,
        text_blob=packed.text,
        raw_html=packed.raw,
        codec=packed.codec,
        base_number=keyframe.number if packed.codec == DELTA and keyframe else None,
        stored_bytes=packed.size,
        authors=list(snapshot.authors),
        content_hash=snapshot.content_hash,
        raw_content_type=snapshot.raw_content_type,
        words_added=stats.words_added,
        words_removed=stats.words_removed,
        title_changed=stats.title_changed,
        labels=list(stats.labels),
    )
    session.add(version)
    article.title = snapshot.title
    article.text = snapshot.text
    article.authors = list(snapshot.authors)
    article.last_changed_at = snapshot.fetched_at
    session.flush()
    index_article(session, article.id, snapshot.title, snapshot.text)
    return version


def _keyframe(session: Session, article_id: int) -> Version | None:
    return session.scalar(
        select(Version)
        .where(Version.article_id == article_id, Version.codec == PLAIN)
        .order_by(Version.number.desc())
        .limit(1)
    )


def version_content(session: Session, version: Version) -> tuple[str, bytes | None]:
    """Decompressed (text, raw HTML) of a version."""
    if version.codec != DELTA or version.base_number is None:
        return unpack_text(version.text_blob, version.codec), unpack_raw(
            version.raw_html, version.codec
        )
    base = get_version(session, version.article_id, version.base_number)
    if base is None:
        raise LookupError(f"version {version.number} lost its keyframe {version.base_number}")
    base_text, base_raw = version_content(session, base)
    return (
        unpack_text(version.text_blob, version.codec, base_text),
        unpack_raw(version.raw_html, version.codec, base_raw),
    )


def version_texts(versions: Sequence[Version]) -> dict[int, str]:
    """Texts of an article's loaded versions by number, decompressing each keyframe once."""
    by_number = {v.number: v for v in versions}
    texts: dict[int, str] = {}
    for version in sorted(versions, key=lambda v: (v.codec == DELTA, v.number)):
        base_text = None
        if version.codec == DELTA and version.base_number is not None:
            base = by_number.get(version.base_number)
            if base is None:
                raise LookupError(f"version {version.number} lost its keyframe")
            base_text = texts[base.number]
        texts[version.number] = unpack_text(version.text_blob, version.codec, base_text)
    return texts


def record_check(
    session: Session,
    article: Article,
    snapshot: ArticleSnapshot | None,
    *,
    checked_at: datetime,
    next_check_at: datetime | None,
) -> None:
    """An article was fetched again: update what the page says about it and when to look again.

    Stated dates change the article, not its versions. A removed article that answers again
    has reappeared, which is recorded as an event.
    """
    article.last_checked_at = checked_at
    article.next_check_at = next_check_at
    if article.removed_at is not None:
        add_event(
            session,
            article.id,
            "reappeared",
            f"removed since {article.removed_at:%Y-%m-%d %H:%M}",
            checked_at,
        )
        article.removed_at = None
    if snapshot is None:
        return
    add_aliases(session, article, [snapshot.url, *snapshot.aliases])
    article.published_at = article.published_at or snapshot.published_at
    article.modified_at = snapshot.modified_at or article.modified_at
    article.language = snapshot.language or article.language
    article.site_name = snapshot.site_name or article.site_name
    article.description = snapshot.description or article.description
    article.etag = snapshot.etag
    article.last_modified = snapshot.last_modified
    article.raw_hash = snapshot.raw_hash


def mark_removed(session: Session, article: Article, at: datetime, status: int) -> None:
    """404/410: the article is gone (its versions stay); checks continue to see it return."""
    if article.removed_at is None:
        article.removed_at = at
        add_event(session, article.id, "removed", f"HTTP {status}", at)
    article.last_checked_at = at


def add_event(
    session: Session, article_id: int, kind: str, detail: str | None, at: datetime
) -> None:
    session.add(ArticleEvent(article_id=article_id, kind=kind, detail=detail, at=at))


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


def sync_stories(session: Session, stories: Iterable[tuple[str, str]]) -> None:
    """Make the configured stories exist (name, query); matching is done by a later job."""
    for name, query in stories:
        story = session.scalar(select(Story).where(Story.name == name))
        if story is None:
            session.add(Story(name=name, query=query, kind="configured"))
        else:
            story.query = query
    session.flush()
