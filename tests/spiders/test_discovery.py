"""Link discovery from feeds, sitemaps and section pages."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from spiders.discovery import (
    NotAFeed,
    NotASitemap,
    TruncatedFeed,
    advertised_feeds,
    feed_links,
    looks_like_article_url,
    parse_feed,
    parse_sitemap,
    parse_w3c_date,
    section_links,
)

RSS2 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Memo</title><link>https://news.example/2023/11/13/dissent-memo-gaza</link>
<pubDate>Mon, 13 Nov 2023 10:00:00 GMT</pubDate></item>
<item><title>Relative</title><link>/2023/11/14/second-story-here</link></item>
</channel></rss>"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://news.example/"><title>T</title><link>https://news.example/</link></channel>
<item rdf:about="https://news.example/a-b-c"><title>One</title><link>https://news.example/a-b-c</link>
<dc:date>2023-11-13T10:00:00Z</dc:date></item></rdf:RDF>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>T</title><id>urn:x</id><updated>2023-11-14T00:00:00Z</updated>
<entry><title>Atom story</title><id>urn:1</id>
<link rel="alternate" href="https://news.example/atom-story-one"/>
<link rel="enclosure" href="https://news.example/pic.jpg"/>
<published>2023-11-13T10:00:00Z</published><updated>2023-11-14T08:00:00Z</updated></entry>
</feed>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://news.example/sitemap-news.xml</loc><lastmod>2023-11-14</lastmod></sitemap>
</sitemapindex>"""

NEWS = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example/2023/11/13/memo</loc>
<news:news><news:publication><news:name>N</news:name><news:language>en</news:language>
</news:publication><news:publication_date>2023-11-13T10:00:00+01:00</news:publication_date>
<news:title>Dissent memo</news:title></news:news></url>
<url><loc>https://news.example/old</loc><lastmod>2019-01-01</lastmod></url>
</urlset>"""


def test_reads_rss2_with_dates_and_relative_links() -> None:
    links = parse_feed(RSS2, "https://news.example/feed")
    assert [link.url for link in links] == [
        "https://news.example/2023/11/13/dissent-memo-gaza",
        "https://news.example/2023/11/14/second-story-here",
    ]
    assert links[0].published_at == datetime(2023, 11, 13, 10, tzinfo=UTC)
    assert links[0].title == "Memo"


def test_reads_rss1_rdf() -> None:
    (link,) = parse_feed(RSS1, "https://news.example/rss1")
    assert link.url == "https://news.example/a-b-c"
    assert link.published_at == datetime(2023, 11, 13, 10, tzinfo=UTC)


def test_reads_atom_alternate_link_and_updated_date() -> None:
    (link,) = parse_feed(ATOM, "https://news.example/atom")
    assert link.url == "https://news.example/atom-story-one"
    assert link.listed_date == datetime(2023, 11, 14, 8, tzinfo=UTC)


def test_a_guid_that_is_not_an_address_is_not_made_into_one() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>A</title><guid isPermaLink="false">abc-123-456</guid></item>
    <item><title>B</title><guid>https://news.example/2023/11/13/b-story-here</guid></item>
    <item><title>C</title><guid isPermaLink="false">x</guid><link>/2023/11/13/c-story</link></item>
    </channel></rss>"""
    links = parse_feed(feed, "https://news.example/feed.xml")
    assert [link.url for link in links] == [
        "https://news.example/2023/11/13/b-story-here",
        "https://news.example/2023/11/13/c-story",
    ]


JSON_FEED = b"""{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "News", "home_page_url": "https://news.example/",
  "items": [
    {"id": "1", "url": "https://news.example/2023/11/13/dissent-memo-gaza", "title": " Memo ",
     "date_published": "2023-11-13T10:00:00Z", "date_modified": "2023-11-13T12:30:00+01:00"},
    {"id": "2", "url": "/2023/11/14/second-story-here"},
    {"id": "3", "external_url": "https://news.example/2023/11/15/linked-story", "title": "L",
     "date_published": "not a date"},
    {"id": "4", "content_text": "no link at all"}
  ]
}"""


def test_reads_a_json_feed() -> None:
    links = feed_links(JSON_FEED, "https://news.example/feed.json")
    assert [link.url for link in links] == [
        "https://news.example/2023/11/13/dissent-memo-gaza",
        "https://news.example/2023/11/14/second-story-here",
        "https://news.example/2023/11/15/linked-story",
    ]
    assert links[0].title == "Memo"
    assert links[0].published_at == datetime(2023, 11, 13, 10, tzinfo=UTC)
    assert links[0].modified_at == datetime(2023, 11, 13, 11, 30, tzinfo=UTC)
    assert links[2].published_at is None


def test_json_that_is_no_json_feed_says_so() -> None:
    with pytest.raises(NotAFeed, match=r"JSON feed \(JSON, but not a JSON Feed\)"):
        feed_links(b'{"items": []}', "https://news.example/api")


def test_reads_a_feed_served_as_a_gzip_file() -> None:
    links = feed_links(gzip.compress(RSS2), "https://news.example/feed.xml.gz")
    assert len(links) == 2
    with pytest.raises(NotAFeed, match="gzip file that cannot be read"):
        feed_links(gzip.compress(RSS2)[:40], "https://news.example/feed.xml.gz")


def test_rejects_html_as_feed() -> None:
    with pytest.raises(NotAFeed):
        parse_feed(b"<html><body><p>hello</p></body></html>", "https://news.example/")


def test_reads_sitemap_index() -> None:
    content = parse_sitemap(INDEX, "https://news.example/sitemap.xml")
    assert [s.url for s in content.sitemaps] == ["https://news.example/sitemap-news.xml"]
    assert content.links == []


def test_reads_google_news_sitemap_dates_and_titles() -> None:
    content = parse_sitemap(gzip.compress(NEWS), "https://news.example/sitemap-news.xml.gz")
    memo, old = content.links
    assert memo.published_at == datetime(2023, 11, 13, 9, tzinfo=UTC)
    assert memo.title == "Dissent memo"
    assert old.modified_at == datetime(2019, 1, 1, tzinfo=UTC)


IMAGE_FIRST = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <image:image>
      <image:loc>https://cdn.news.example/photo.jpg</image:loc>
      <image:title>Photo: the State Department building</image:title>
    </image:image>
    <loc>https://news.example/2023/11/13/dissent-memo</loc>
    <news:news>
      <news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2023-11-13T09:00:00Z</news:publication_date>
      <news:title>Dissent memo</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example/2023/11/gallery-story</loc>
    <image:image><image:loc>https://cdn.news.example/2.jpg</image:loc><image:title>Caption</image:title></image:image>
    <lastmod>2023-11</lastmod>
  </url>
</urlset>"""


def test_sitemap_image_entries_do_not_stand_in_for_the_article() -> None:
    memo, gallery = parse_sitemap(IMAGE_FIRST, "https://news.example/sitemap.xml").links
    assert memo.url == "https://news.example/2023/11/13/dissent-memo"
    assert memo.title == "Dissent memo"
    assert memo.published_at == datetime(2023, 11, 13, 9, tzinfo=UTC)
    assert gallery.url == "https://news.example/2023/11/gallery-story"
    assert gallery.title is None  # a caption is not the headline
    assert gallery.modified_at == datetime(2023, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023", datetime(2023, 1, 1, tzinfo=UTC)),
        ("2023-11", datetime(2023, 11, 1, tzinfo=UTC)),
        ("2023-11-13", datetime(2023, 11, 13, tzinfo=UTC)),
        ("2023-11-13T10:30+01:00", datetime(2023, 11, 13, 9, 30, tzinfo=UTC)),
        ("2023-11-13T10:30:00.5z", datetime(2023, 11, 13, 10, 30, 0, 500000, tzinfo=UTC)),
        ("2023-13", None),
        ("13 Nov 2023", None),
        ("", None),
    ],
)
def test_reads_every_w3c_datetime_form(text: str, expected: datetime | None) -> None:
    assert parse_w3c_date(text) == expected


def test_rejects_non_sitemap_xml() -> None:
    with pytest.raises(NotASitemap):
        parse_sitemap(RSS2, "https://news.example/feed")


def test_section_links_stay_in_domain_and_skip_non_articles() -> None:
    page = b"""<html><body>
    <a href="/2023/11/13/state-department-dissent-memo">Memo</a>
    <a href="https://www.news.example/politics/biden-israel-gaza-ceasefire-talks">Talks</a>
    <a href="https://other.example/2023/11/13/some-other-story">Offsite</a>
    <a href="/tag/gaza">Tag</a><a href="/author/jane-doe">Author</a><a href="/login">Login</a>
    <a href="/video/2023/11/13/clip-of-the-day">Video</a><a href="/category/world">Cat</a>
    <a href="/2023/11/13/state-department-dissent-memo#comments">Dup</a>
    <a href="mailto:x@news.example">Mail</a><a href="/about">About</a>
    </body></html>"""
    links = section_links(page, "https://news.example/section/world", ["news.example"])
    assert [link.url for link in links] == [
        "https://news.example/2023/11/13/state-department-dissent-memo",
        "https://www.news.example/politics/biden-israel-gaza-ceasefire-talks",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://n.example/2023/11/13/memo", True),
        ("https://n.example/news/world-middle-east-67412345", True),
        ("https://n.example/politics/some-long-story-slug", True),
        ("https://n.example/politics", False),
        ("https://n.example/tags/gaza-war-news", False),
        ("https://n.example/page/2", False),
        ("https://n.example/image-of-the-day.jpg", False),
        ("https://n.example/news/articles/c0jq1v2kx3lo", True),  # an opaque id
        ("https://n.example/politics/2026/story-0.html", True),  # a year, a short slug
        ("https://n.example/politics/2026/", False),
        ("https://n.example/sign-in.html", False),
        ("https://n.example/politics/brexit.html", False),  # a topic page, as often as not
    ],
)
def test_article_url_heuristic(url: str, expected: bool) -> None:
    assert looks_like_article_url(url) is expected


def test_an_html_page_names_its_feeds_for_autodiscovery() -> None:
    page = (
        b'\xef\xbb\xbf<!-- cms --><!doctype html><html><head><base href="https://news.example/en/">'
        b'<link rel="alternate" type="application/rss+xml; charset=utf-8" href="rss.xml">'
        b'<link rel="Alternate" type="application/atom+xml" href="//news.example/atom">'
        b'<link rel="alternate" hreflang="de" href="https://news.example/de/">'
        b'<link rel="alternate" type="application/rss+xml" href="http://[::1">'
        b"</head><body></body></html>"
    )
    assert advertised_feeds(page, "https://news.example/") == [
        "https://news.example/en/rss.xml",
        "https://news.example/atom",
    ]
    with pytest.raises(NotAFeed) as caught:
        feed_links(page, "https://news.example/")
    assert str(caught.value) == "an HTML page, not a feed"
    assert caught.value.advertised == advertised_feeds(page, "https://news.example/")


def test_one_malformed_link_costs_only_itself() -> None:
    good = "https://news.example/2023/11/13/dissent-memo-gaza"
    section = f'<html><body><a href="http://[::1/x">bad</a><a href="{good}">Memo</a></body></html>'
    assert [
        link.url for link in section_links(section, "https://news.example/", ["news.example"])
    ] == [good]
    sitemap = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>http://[::1/x</loc></url><url><loc>{good}</loc></url></urlset>"
    ).encode()
    assert [link.url for link in parse_sitemap(sitemap, "https://news.example/s.xml").links] == [
        good
    ]


def _rss(items: int, extra: bytes = b"") -> bytes:
    entries = b"".join(
        b"<item><title>S%d%s</title><link>https://n.example/a/%d</link></item>" % (n, extra, n)
        for n in range(items)
    )
    return (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>N</title>"
        + entries
        + (b"</channel></rss>\n")
    )


def test_a_feed_cut_off_mid_way_gives_its_first_entries_and_says_where_it_stopped() -> None:
    feed = _rss(6)
    with pytest.raises(TruncatedFeed, match=r"cut off after 3 entries \(malformed XML") as cut:
        parse_feed(feed[: feed.index(b"S3") + 1], "https://n.example/feed")
    assert [link.url for link in cut.value.links] == [f"https://n.example/a/{n}" for n in range(3)]


def test_a_whole_feed_with_a_recoverable_flaw_is_not_cut_off() -> None:
    """feedparser's bozo flag also marks complete feeds (an HTML entity in XML, say)."""
    assert len(parse_feed(_rss(6, b" &nbsp;"), "https://n.example/feed")) == 6
