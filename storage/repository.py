"""Reads and writes of newsmon's data. Functions take a Session and never commit.

The caller owns the transaction (``with factory.begin() as session``), so an article, its
aliases, its version and its search-index entry are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, insert, inspect, or_, select, union_all
from sqlalchemy.orm import Session

from storage.blobs import DELTA, PLAIN, pack, unpack_raw, unpack_text
from storage.models import Article, ArticleEvent, ArticleUrl, Outlet, Story, Version
from storage.search import index_article, index_articles


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
    since: datetime | None = None  # last real change, else first sighting: its age for rechecks


@dataclass(frozen=True, slots=True)
class ChangeStats:
    words_added: int = 0
    words_removed: int = 0
    title_changed: bool = False
    labels: tuple[str, ...] = ()


def outlets_without_articles(session: Session, names: Iterable[str]) -> list[str]:
    """Those of ``names`` with no stored article yet (never crawled, or nothing kept)."""
    wanted = list(dict.fromkeys(names))
    stored = set(
        session.scalars(
            select(Outlet.name).where(
                Outlet.name.in_(wanted),
                select(Article.id).where(Article.outlet_id == Outlet.id).exists(),
            )
        )
    )
    return [name for name in wanted if name not in stored]


@dataclass(frozen=True, slots=True)
class FirstText:
    """The text of an article that still has its first version only."""

    article_id: int
    outlet: str
    title: str
    text: str
    authors: list[str]


def first_texts_since(
    session: Session, outlets: Iterable[str], since: datetime, *, chunk: int = 500
) -> Iterable[FirstText]:
    """Articles of ``outlets`` first seen at or after ``since`` with one version, streamed."""
    later = select(Version.id).where(Version.article_id == Article.id, Version.number > 1)
    rows = session.execute(
        select(Article.id, Outlet.name, Article.title, Article.text, Article.authors)
        .join(Outlet, Article.outlet_id == Outlet.id)
        .where(Outlet.name.in_(list(outlets)), Article.first_seen_at >= since, ~later.exists())
        .order_by(Article.id)
        .execution_options(yield_per=chunk)
    )
    for article_id, outlet, title, text, authors in rows:
        yield FirstText(article_id, outlet, title, text, list(authors or ()))


def replace_first_text(session: Session, article_id: int, text: str, content_hash: str) -> bool:
    """Give an article's only version, its current text and its search entry ``text``.

    For a correction made before anyone could see the version (lines learned to be an
    outlet's boilerplate later in the same crawl); False if the article has other versions.
    """
    versions = session.scalars(select(Version).where(Version.article_id == article_id)).all()
    article = session.get(Article, article_id)
    if article is None or len(versions) != 1:
        return False
    version = versions[0]
    packed = pack(text, None, None)
    version.text_blob = packed.text
    version.codec = PLAIN
    version.base_number = None
    version.stored_bytes = len(packed.text) + len(version.raw_html or b"")
    version.content_hash = content_hash
    article.text = text
    index_article(session, article_id, article.title, text)
    return True


def get_or_create_outlet(session: Session, name: str) -> Outlet:
    """The outlet row called ``name``, created if missing.

    Rows found once per session are remembered (the writer stores many articles of few outlets
    per transaction); one whose insert was rolled back since is no longer persistent and is
    looked up again.
    """
    remembered: dict[str, Outlet] = session.info.setdefault("outlets", {})
    outlet = remembered.get(name)
    if outlet is not None and inspect(outlet).persistent:
        return outlet
    outlet = session.scalar(select(Outlet).where(Outlet.name == name))
    if outlet is None:
        outlet = Outlet(name=name)
        session.add(outlet)
        session.flush()
    remembered[name] = outlet
    return outlet


_KNOWN_COLUMNS = (
    Article.id,
    Outlet.name,
    Article.url,
    Article.last_checked_at,
    Article.next_check_at,
    Article.etag,
    Article.last_modified,
    Article.raw_hash,
    Article.removed_at,
    Article.first_seen_at,
    Article.last_changed_at,
)


def known_articles(session: Session, outlet_names: Iterable[str] = ()) -> dict[str, KnownArticle]:
    """Every URL (canonical and alias) of the stored articles of ``outlet_names`` (or all).

    Reads only the columns a crawl needs, never the texts: this runs before every crawl.
    """
    names = list(outlet_names)
    statement = select(*_KNOWN_COLUMNS).join(Outlet, Article.outlet_id == Outlet.id)
    if names:
        statement = statement.where(Outlet.name.in_(names))
    known: dict[str, KnownArticle] = {}
    by_id: dict[int, KnownArticle] = {}
    for row in session.execute(statement):
        item = _known(row)
        known[item.url] = by_id[item.id] = item
    aliases = select(ArticleUrl.url, ArticleUrl.article_id).join(
        Article, ArticleUrl.article_id == Article.id
    )
    if names:
        aliases = aliases.join(Outlet, Article.outlet_id == Outlet.id).where(Outlet.name.in_(names))
    for url, article_id in session.execute(aliases):
        if article_id in by_id:
            known.setdefault(url, by_id[article_id])
    return known


def due_articles(
    session: Session, outlet_names: Iterable[str], now: datetime, *, include_all: bool = False
) -> list[KnownArticle]:
    """Articles to fetch again, most overdue first (``include_all``: every live article)."""
    statement = select(*_KNOWN_COLUMNS).join(Outlet, Article.outlet_id == Outlet.id)
    names = list(outlet_names)
    if names:
        statement = statement.where(Outlet.name.in_(names))
    if not include_all:
        statement = statement.where(Article.next_check_at.is_not(None))
        statement = statement.where(Article.next_check_at <= now)
    statement = statement.order_by(Article.next_check_at.asc().nulls_last(), Article.id)
    return [_known(row) for row in session.execute(statement)]


def age_origin(last_changed_at: datetime | None, first_seen_at: datetime) -> datetime:
    """Where an article's age counts from for rechecks: its last real change, else its first
    sighting; an edit makes an article young again (checked often)."""
    return last_changed_at or first_seen_at


def _known(row: Row[Any]) -> KnownArticle:
    return KnownArticle(
        id=row.id,
        outlet=row.name,
        url=row.url,
        last_checked_at=row.last_checked_at,
        next_check_at=row.next_check_at,
        etag=row.etag,
        last_modified=row.last_modified,
        raw_hash=row.raw_hash,
        removed=row.removed_at is not None,
        since=age_origin(row.last_changed_at, row.first_seen_at),
    )


def find_article(session: Session, urls: Sequence[str]) -> Article | None:
    """The article known under any of ``urls`` (by canonical URL first, then by alias)."""
    if not urls:
        return None
    by_alias = select(ArticleUrl.article_id).where(ArticleUrl.url.in_(urls))
    statement = (
        select(Article)
        .where(or_(Article.url.in_(urls), Article.id.in_(by_alias)))
        .order_by(case((Article.url.in_(urls), 0), else_=1))
        .limit(1)
    )
    return session.scalar(statement)


def create_article(
    session: Session,
    snapshot: ArticleSnapshot,
    *,
    next_check_at: datetime | None = None,
    urls_unowned: bool = False,
) -> Article:
    """A new article row, filled from ``snapshot`` in one INSERT, with its aliases.

    The first version is added separately (:func:`add_version` with ``first=True``).
    ``urls_unowned``: the caller has just looked every URL of the snapshot up and found none,
    so the aliases need no ownership check.
    """
    at = snapshot.fetched_at
    article = Article(
        outlet_id=get_or_create_outlet(session, snapshot.outlet).id,
        url=snapshot.url,
        title=snapshot.title,
        text=snapshot.text,
        authors=list(snapshot.authors),
        published_at=snapshot.published_at,
        modified_at=snapshot.modified_at,
        language=snapshot.language,
        site_name=snapshot.site_name,
        description=snapshot.description,
        first_seen_at=at,
        last_checked_at=at,
        last_changed_at=at,
        next_check_at=next_check_at,
        etag=snapshot.etag,
        last_modified=snapshot.last_modified,
        raw_hash=snapshot.raw_hash,
    )
    session.add(article)
    session.flush()
    urls = [snapshot.url, *snapshot.aliases]
    if urls_unowned:
        session.add_all(
            ArticleUrl(article_id=article.id, url=url, kind="alias", first_seen_at=at)
            for url in dict.fromkeys(urls)
            if url and url != article.url
        )
    else:
        add_aliases(session, article, urls)
    return article


def url_owners(session: Session, urls: Iterable[str]) -> dict[str, int]:
    """The stored article each of ``urls`` belongs to, as canonical URL or alias (if any)."""
    wanted = list(dict.fromkeys(u for u in urls if u))
    if not wanted:
        return {}
    owned = union_all(
        select(ArticleUrl.url, ArticleUrl.article_id).where(ArticleUrl.url.in_(wanted)),
        select(Article.url, Article.id).where(Article.url.in_(wanted)),
    )
    return {row.url: row.article_id for row in session.execute(owned)}


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article no stored URL points at yet, with when to check it again."""

    snapshot: ArticleSnapshot
    next_check_at: datetime | None


def create_articles(session: Session, new: Sequence[NewArticle]) -> list[int]:
    """Store many new articles with their aliases, first versions and search entries at once.

    The same rows as :func:`create_article` followed by ``add_version(..., first=True)`` for
    each, in five statements for the lot: a crawl's first pass is almost all new articles.
    The caller has checked that no URL of ``new`` is stored or repeated among them.
    """
    if not new:
        return []
    rows = []
    for item in new:
        snapshot, at = item.snapshot, item.snapshot.fetched_at
        rows.append(
            {
                "outlet_id": get_or_create_outlet(session, snapshot.outlet).id,
                "url": snapshot.url,
                "title": snapshot.title,
                "text": snapshot.text,
                "authors": list(snapshot.authors),
                "published_at": snapshot.published_at,
                "modified_at": snapshot.modified_at,
                "language": snapshot.language,
                "site_name": snapshot.site_name,
                "description": snapshot.description,
                "first_seen_at": at,
                "last_checked_at": at,
                "last_changed_at": at,
                "next_check_at": item.next_check_at,
                "etag": snapshot.etag,
                "last_modified": snapshot.last_modified,
                "raw_hash": snapshot.raw_hash,
            }
        )
    statement = insert(Article).returning(Article.id, sort_by_parameter_order=True)
    ids = list(session.scalars(statement, rows))
    aliases = [
        {"article_id": article_id, "url": url, "kind": "alias", "first_seen_at": at}
        for article_id, item in zip(ids, new, strict=True)
        if (at := item.snapshot.fetched_at)
        for url in dict.fromkeys(item.snapshot.aliases)
        if url and url != item.snapshot.url
    ]
    if aliases:
        session.execute(insert(ArticleUrl), aliases)
    versions = []
    for article_id, item in zip(ids, new, strict=True):
        snapshot = item.snapshot
        packed = pack(snapshot.text, snapshot.raw_html, None)
        versions.append(
            {
                "article_id": article_id,
                "number": 1,
                "fetched_at": snapshot.fetched_at,
                "title": snapshot.title,
                "text_blob": packed.text,
                "raw_html": packed.raw,
                "codec": packed.codec,
                "base_number": None,
                "stored_bytes": packed.size,
                "authors": list(snapshot.authors),
                "content_hash": snapshot.content_hash,
                "raw_content_type": snapshot.raw_content_type,
                "words_added": 0,
                "words_removed": 0,
                "title_changed": False,
                "labels": [],
            }
        )
    session.execute(insert(Version), versions)
    index_articles(
        session,
        [(i, item.snapshot.title, item.snapshot.text) for i, item in zip(ids, new, strict=True)],
    )
    return ids


def add_aliases(session: Session, article: Article, urls: Iterable[str]) -> None:
    """Record every other URL the article was reached under (URLs owned elsewhere are left)."""
    wanted = [u for u in dict.fromkeys(urls) if u and u != article.url]
    if not wanted:
        return
    owned = union_all(
        select(ArticleUrl.url).where(ArticleUrl.url.in_(wanted)),
        select(Article.url).where(Article.url.in_(wanted)),
    )
    taken = set(session.scalars(owned))
    for url in wanted:
        if url not in taken:
            session.add(ArticleUrl(article_id=article.id, url=url, kind="alias"))


def move_article_url(session: Session, article: Article, url: str, at: datetime) -> bool:
    """Make ``url`` the article's URL, its old one an alias, and record a "moved" event.

    For a slug changed with a redirect (or a new canonical the page declares): the article
    stays one, under the URL its publisher now gives. Not done when ``url`` belongs to another
    article. Returns whether it moved.
    """
    if not url or url == article.url:
        return False
    owner = session.scalar(select(ArticleUrl).where(ArticleUrl.url == url))
    if owner is not None and owner.article_id != article.id:
        return False
    if owner is None and session.scalar(select(Article.id).where(Article.url == url)):
        return False
    old = article.url
    if owner is not None:
        session.delete(owner)
        session.flush()  # the alias row goes before the URL is the article's own
    article.url = url
    session.flush()
    session.add(ArticleUrl(article_id=article.id, url=old, kind="alias"))
    add_event(session, article.id, "moved", f"{old} -> {url}", at)
    return True


def merged_into(session: Session, article_id: int) -> int | None:
    """The article a deleted one was merged into (its "merged" event names it), or None."""
    return session.scalar(
        select(ArticleEvent.article_id)
        .where(
            ArticleEvent.kind == "merged",
            ArticleEvent.detail.like(f"article {article_id} (%"),
        )
        .order_by(ArticleEvent.id.desc())
        .limit(1)
    )


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
    session: Session,
    article: Article,
    snapshot: ArticleSnapshot,
    stats: ChangeStats,
    *,
    first: bool = False,
) -> Version:
    """Store a new version, compressed against the article's keyframe, and make it current.

    ``first``: the article was just created and has no versions (saves three queries).
    """
    latest = None if first else latest_version(session, article.id)
    keyframe = None if first else _keyframe(session, article.id)
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
    index_article(session, article.id, snapshot.title, snapshot.text, replace=not first)
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


def mark_removed(
    session: Session, article: Article, at: datetime, status: int, reason: str | None = None
) -> None:
    """404/410 (or ``reason``): the article is gone (its versions stay); checks continue to
    see it return."""
    if article.removed_at is None:
        article.removed_at = at
        add_event(session, article.id, "removed", reason or f"HTTP {status}", at)
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
