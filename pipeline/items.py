"""Typed items that flow from the spiders into the item pipelines.

Plain dataclasses, free of Scrapy and SQLAlchemy, so extraction and tests can build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.extraction.boilerplate import BoilerplateRule
    from pipeline.features import PreparedFeatures


@dataclass(slots=True)
class Article:
    """What extraction found in one HTML page."""

    title: str
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None


@dataclass(slots=True)
class FetchedPage:
    """An article response (or a recheck's 304/404/410) the spider hands to the pipelines.

    ``url`` is the final URL after redirects; ``requested_url`` and ``redirect_urls`` are kept so
    that every way the article was reached becomes an alias of it.
    """

    outlet: str
    url: str
    requested_url: str
    status: int
    body: bytes
    fetched_at: datetime
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    duration: float | None = None
    redirect_urls: list[str] = field(default_factory=list)
    listed_urls: list[str] = field(default_factory=list)
    article_id: int | None = None  # set when this fetch rechecks a stored article
    known_raw_hash: str | None = None
    known_since: datetime | None = None  # last real change (or first sighting) of that article
    known_removed: bool = False
    # set when the page shows the article is gone although it answered (a redirect to the
    # outlet's home page): stored like a 404, with this reason
    gone: str | None = None
    raw_hash: str | None = None
    raw_unchanged: bool = False
    extraction_error: str | None = None
    discovered_via: str = "config"
    listed_published_at: datetime | None = None
    listed_title: str | None = None
    article: Article | None = None
    # the outlet's repeated lines removed from ``article.text``: the stored text is compared
    # with it under the same rule
    repeated_lines: BoilerplateRule | None = None
    # the final text's features, for post-processing (see pipeline.features)
    features: PreparedFeatures | None = None

    def __repr__(self) -> str:
        """Short: Scrapy logs a dropped item's repr, and the body can be megabytes of HTML."""
        state = f", article {self.article_id}" if self.article_id is not None else ""
        return (
            f"<FetchedPage {self.status} {self.url} ({len(self.body)} bytes) "
            f"of {self.outlet}{state}>"
        )
