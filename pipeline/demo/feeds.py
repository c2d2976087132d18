"""Feeds, sitemaps and robots.txt for a local outlet, in the formats real outlets publish.

RSS 2.0, Atom, RSS 1.0 (RDF), sitemap index, Google News sitemap and plain sitemap: each is a
small function of plain values, written as text so namespaces and prefixes look exactly as
publishers write them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedEntry:
    """One article as listed in a feed or sitemap."""

    title: str
    url: str
    published: datetime
    summary: str = ""
    guid: str = ""


@dataclass(frozen=True)
class Channel:
    """The outlet as described at the top of a feed."""

    title: str
    home_url: str
    self_url: str
    description: str = ""
    language: str = "en"


def rss2(channel: Channel, entries: Sequence[FeedEntry]) -> str:
    items = "".join(
        "<item>"
        f"<title>{_text(e.title)}</title><link>{_text(e.url)}</link>"
        f'<guid isPermaLink="false">{_text(e.guid or e.url)}</guid>'
        f"<pubDate>{format_datetime(e.published.astimezone(UTC), usegmt=True)}</pubDate>"
        f"<description>{_text(e.summary)}</description>"
        "</item>\n"
        for e in entries
    )
    newest = _newest(entries)
    return (
        _XML_DECLARATION + '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>'
        f"<title>{_text(channel.title)}</title><link>{_text(channel.home_url)}</link>"
        f"<description>{_text(channel.description)}</description>"
        f"<language>{_text(channel.language)}</language>"
        f"<lastBuildDate>{format_datetime(newest.astimezone(UTC), usegmt=True)}</lastBuildDate>"
        f'<atom:link href={quoteattr(channel.self_url)} rel="self" type="application/rss+xml"/>\n'
        f"{items}</channel>\n</rss>\n"
    )


def atom(channel: Channel, entries: Sequence[FeedEntry]) -> str:
    items = "".join(
        "<entry>"
        f"<id>{_text(e.guid or e.url)}</id><title>{_text(e.title)}</title>"
        f'<link rel="alternate" type="text/html" href={quoteattr(e.url)}/>'
        f"<published>{_iso(e.published)}</published><updated>{_iso(e.published)}</updated>"
        f'<summary type="text">{_text(e.summary)}</summary>'
        "</entry>\n"
        for e in entries
    )
    return (
        _XML_DECLARATION
        + f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{channel.language}">'
        f"<id>{_text(channel.home_url)}/</id><title>{_text(channel.title)}</title>"
        f"<subtitle>{_text(channel.description)}</subtitle>"
        f"<updated>{_iso(_newest(entries))}</updated>"
        f"<author><name>{_text(channel.title)}</name></author>"
        f'<link rel="self" type="application/atom+xml" href={quoteattr(channel.self_url)}/>'
        f'<link rel="alternate" type="text/html" href={quoteattr(channel.home_url + "/")}/>\n'
        f"{items}</feed>\n"
    )


def rss1(channel: Channel, entries: Sequence[FeedEntry]) -> str:
    sequence = "".join(f"<rdf:li rdf:resource={quoteattr(e.url)}/>" for e in entries)
    items = "".join(
        f"<item rdf:about={quoteattr(e.url)}>"
        f"<title>{_text(e.title)}</title><link>{_text(e.url)}</link>"
        f"<description>{_text(e.summary)}</description><dc:date>{_iso(e.published)}</dc:date>"
        "</item>\n"
        for e in entries
    )
    return (
        _XML_DECLARATION + '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"<channel rdf:about={quoteattr(channel.self_url)}>"
        f"<title>{_text(channel.title)}</title><link>{_text(channel.home_url)}/</link>"
        f"<description>{_text(channel.description)}</description>"
        f"<dc:language>{_text(channel.language)}</dc:language>"
        f"<items><rdf:Seq>{sequence}</rdf:Seq></items></channel>\n"
        f"{items}</rdf:RDF>\n"
    )


def sitemap_index(sitemaps: Iterable[tuple[str, datetime]]) -> str:
    body = "".join(
        f"<sitemap><loc>{_text(url)}</loc><lastmod>{_iso(when)}</lastmod></sitemap>\n"
        for url, when in sitemaps
    )
    return (
        _XML_DECLARATION + '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{body}</sitemapindex>\n"
    )


def news_sitemap(publication: str, language: str, entries: Sequence[FeedEntry]) -> str:
    body = "".join(
        f"<url><loc>{_text(e.url)}</loc><news:news><news:publication>"
        f"<news:name>{_text(publication)}</news:name><news:language>{language}</news:language>"
        f"</news:publication><news:publication_date>{_iso(e.published)}</news:publication_date>"
        f"<news:title>{_text(e.title)}</news:title></news:news></url>\n"
        for e in entries
    )
    return (
        _XML_DECLARATION + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        f"{body}</urlset>\n"
    )


def url_sitemap(entries: Iterable[tuple[str, datetime]]) -> str:
    body = "".join(
        f"<url><loc>{_text(url)}</loc><lastmod>{_iso(when)}</lastmod></url>\n"
        for url, when in entries
    )
    return (
        _XML_DECLARATION + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{body}</urlset>\n"
    )


def robots_txt(
    disallow: Sequence[str], crawl_delay: float | None = None, sitemaps: Sequence[str] = ()
) -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in disallow] or ["Disallow:"]
    if crawl_delay is not None:
        lines.append(f"Crawl-delay: {crawl_delay:g}")
    lines += [""] + [f"Sitemap: {url}" for url in sitemaps]
    return "\n".join(lines).rstrip("\n") + "\n"


def _newest(entries: Sequence[FeedEntry]) -> datetime:
    return max((e.published for e in entries), default=_EPOCH)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value))
