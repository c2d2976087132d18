"""Typed SQLAlchemy models: outlets, articles and their URLs, versions, fetches, runs, stories.

Columns only, no domain logic. The full-text index (``article_fts``) is created per dialect by the
migrations and is deliberately not part of this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would otherwise drop the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Outlet(Base):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="outlet")


class Article(Base):
    """One row per canonical article; the newest version's fields are copied here for queries."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(16))
    site_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_checked_at: Mapped[datetime | None]
    last_changed_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    removed_at: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    raw_hash: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )

    outlet: Mapped[Outlet] = relationship(back_populates="articles")
    urls: Mapped[list[ArticleUrl]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleUrl.id"
    )
    versions: Mapped[list[Version]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Version.number"
    )
    stories: Mapped[list[ArticleStory]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )
    events: Mapped[list[ArticleEvent]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleEvent.id"
    )


class ArticleEvent(Base):
    """Things that happened to an article besides new versions: removal, reappearance,
    rejected extractions, flip-flops."""

    __tablename__ = "article_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="events")


class ArticleUrl(Base):
    """Every URL an article was reached under (tracking variants, redirects, canonicals)."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="alias")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="urls")


class Version(Base):
    """A stored state of an article: written only when its content really changed.

    Text and raw HTML are zstd-compressed; with ``codec == "zstd+dict"`` the version numbered
    ``base_number`` (a keyframe) is the compression dictionary (see ``storage.blobs``).
    """

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("article_id", "number"),
        # "articles whose headline changed this week" is one index range scan
        Index("ix_versions_title_changed_fetched_at", "title_changed", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text_blob: Mapped[bytes] = mapped_column(LargeBinary)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    raw_html: Mapped[bytes | None] = mapped_column(LargeBinary)
    codec: Mapped[str] = mapped_column(String(20), default="zstd")
    base_number: Mapped[int | None]
    stored_bytes: Mapped[int] = mapped_column(default=0)
    raw_content_type: Mapped[str | None] = mapped_column(String(200))
    words_added: Mapped[int] = mapped_column(default=0)
    words_removed: Mapped[int] = mapped_column(default=0)
    title_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)

    article: Mapped[Article] = relationship(back_populates="versions")


class CrawlRun(Base):
    """One crawl pass; per-outlet counts live in :class:`CrawlRunOutlet`."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    reason: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    # where that process ran (host, boot, PID namespace): its pid means something only there
    machine: Mapped[str | None] = mapped_column(String(300))
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    outlets: Mapped[list[CrawlRunOutlet]] = relationship(
        back_populates="run", cascade="all, delete-orphan"
    )


class CrawlRunOutlet(Base):
    __tablename__ = "crawl_run_outlets"
    __table_args__ = (UniqueConstraint("run_id", "outlet_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    discovered: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    new_articles: Mapped[int] = mapped_column(default=0)
    new_versions: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    run: Mapped[CrawlRun] = relationship(back_populates="outlets")
    outlet: Mapped[Outlet] = relationship()


class Fetch(Base):
    """Every HTTP request the crawler made, successful or not."""

    __tablename__ = "fetches"
    __table_args__ = (Index("ix_fetches_url_fetched_at", "url", "fetched_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True
    )
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id", ondelete="SET NULL"))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(20), default="page")
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None]
    duration: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)


class Story(Base):
    """A configured story (matched by its query) or an automatic one (``kind == "auto"``): a
    cluster of coverage of one event by several outlets."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    query: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="configured")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # auto stories: the cluster they show (see StoryFeature.cluster_id)
    cluster_id: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)
    # configured stories: query, outlets and dates their links were last matched with
    matched_spec: Mapped[str | None] = mapped_column(Text)

    articles: Mapped[list[ArticleStory]] = relationship(
        back_populates="story", cascade="all, delete-orphan"
    )


class ArticleStory(Base):
    __tablename__ = "article_stories"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="stories")
    story: Mapped[Story] = relationship(back_populates="articles")


class DaemonLock(Base):
    """One row per running ``newsmon run``: who holds the database, and since when.

    The holder refreshes ``heartbeat_at``; a lock whose heartbeat is older than its
    ``ttl_seconds`` is stale (a daemon killed with -9) and may be taken over.
    """

    __tablename__ = "daemon_locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300))
    pid: Mapped[int]
    hostname: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    ttl_seconds: Mapped[int] = mapped_column(default=60)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ArticleSignature(Base):
    """Duplicate detection's view of an article's latest text: exact key and MinHash."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    shingles: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyndicationBand(Base):
    """The persisted LSH index: one row per (band key, article); equal keys are candidates.

    Millions of rows, so one B-tree only (no rowid on SQLite, no index on ``article_id``): an
    article's rows are found again from the keys of its stored signature.
    """

    __tablename__ = "syndication_bands"
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )


class SyndicationLink(Base):
    """Two articles found to be copies of one text (``article_id < other_id``); groups are the
    connected components of these links."""

    __tablename__ = "syndication_links"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    similarity: Mapped[float] = mapped_column(Float)


class StoryFeature(Base):
    """An article's salient-term vector for automatic stories, and the cluster it is in."""

    __tablename__ = "story_features"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    event_at: Mapped[datetime] = mapped_column(index=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cluster_id: Mapped[int | None] = mapped_column(Integer, index=True)


class StoryTerm(Base):
    """Document frequency of a term over all articles (the IDF of the term vectors)."""

    __tablename__ = "story_terms"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    df: Mapped[int] = mapped_column(default=0)


class JobMark(Base):
    """Where an incremental job stopped (e.g. the last version id post-processing saw)."""

    __tablename__ = "job_marks"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Listing(Base):
    """A feed, sitemap or section page and the validators of its last complete read.

    The next crawl asks for it conditionally; a 304 (or, from a server without validators, the
    same bytes again: ``body_hash``) saves parsing a listing whose links were all handled.
    Sitemap indexes keep the child sitemaps they led to, so an unchanged index still leads to
    children that may have changed.
    """

    __tablename__ = "listings"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    children: Mapped[list[str]] = mapped_column(JSON, default=list)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_hash: Mapped[str | None] = mapped_column(String(64))


class BoilerplateWindow(Base):
    """The lines of an outlet's most recent new articles, for its repeated-line rule.

    ``pages`` holds, oldest first, each page's distinct line keys (a zstd-compressed JSON list of
    lists); the next crawl starts from it instead of learning the outlet's boilerplate again.
    """

    __tablename__ = "boilerplate_windows"

    outlet_id: Mapped[int] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), primary_key=True
    )
    pages: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingFeatures(Base):
    """Post-processing's per-text work on an article's newest text, done when it was stored.

    The crawl's writer fills it in its parallel phase; post-processing reads and deletes it, so
    the table holds only articles not processed yet. ``digest`` is of the exact title, text and
    language the row was computed from: a row that no longer matches the article is ignored.
    """

    __tablename__ = "pending_features"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    text_hash: Mapped[str] = mapped_column(String(64))
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    shingles: Mapped[int]
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
