"""Test outlets on loopback, built from the shared corpus, with an exact manifest of what a crawl
must find.

Five outlets, each on its own address, all on one port. A: RSS 2.0 + section page, an article
disallowed by robots.txt, a feed link with tracking parameters. B: Atom + sitemap index (Google News
and plain sitemaps), a stale sitemap entry, an article reachable under two URLs. C: windows-1252
pages with accented text, RSS 1.0. D: answers 500 to everything. E: connection refused.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html

from pipeline.demo.samples import OutletEntry, config_toml, outlet_entry
from pipeline.demo.server import OutletServer, RequestInfo, Route, Site
from pipeline.demo.sitebuilder import (
    SiteOptions,
    SourcePage,
    build_site,
    discovery_urls,
    guess_title,
)

CORPUS_ENV = "NEWSMON_CORPUS"
REPO = Path(__file__).resolve().parents[1]
USER_AGENT = "newsmon-tests (+https://example.org/bot)"
DEFAULT_DB_URL = "sqlite:///newsmon-tests.db"
TRACKING_QUERY = "utm_source=rss&utm_medium=feed"
STALE_DATE = datetime(2019, 11, 19, 8, 30, tzinfo=UTC)

OUTLET_A, OUTLET_B, OUTLET_C = "Outlet A", "Outlet B", "Outlet C"
OUTLET_D, OUTLET_E = "Outlet D", "Outlet E"
ADDRESSES = {
    OUTLET_A: "127.0.0.2",
    OUTLET_B: "127.0.0.3",
    OUTLET_C: "127.0.0.4",
    OUTLET_D: "127.0.0.5",
    OUTLET_E: "127.0.0.6",
}
OPTIONS = {
    OUTLET_A: SiteOptions(rss=True, sections=("news",)),
    OUTLET_B: SiteOptions(atom=True, news_sitemap=True, plain_sitemap=True),
    OUTLET_C: SiteOptions(rss1=True, language="it"),
}

# extraction-bench page id prefixes, chosen for clean extraction (trafilatura recall >= 0.87).
A_PAGES = {
    "tracked": "7a457a4f",  # nbcnews.com: feed link carries utm_* parameters
    "disallowed": "5a822960",  # nbcnews.com: in robots.txt, linked from feed and section
    "plain1": "c467d507",  # detroit.cbslocal.com
    "plain2": "961bd85c",  # therepublic.com
    "plain3": "7de52419",  # detroitnews.com
}
B_PAGES = {
    "duplicate": "70cb2d5b",  # bbc.com: also at /amp/<slug>.html, listed in the plain sitemap
    "plain1": "c7e39ac4",  # bbc.com
    "plain2": "92101975",  # news.sky.com
    "plain3": "0d461229",  # sportsnet.ca
    "stale": "624fcd90",  # express.co.uk: only in the sitemaps, dated 2019 (must be skipped)
}
C_PAGES = {  # (page, how windows-1252 is declared)
    "header_only": "b6fb53e9",  # remember8090.it (Italian)
    "meta_only": "20b2b649",  # remember8090.it (Italian)
    "both1": "3252222e",  # comoeducarseusfilhos.com.br (Portuguese)
    "both2": "57b4dafd",  # blog.comwrap.com (German)
}
PAGE_IDS = {OUTLET_A: A_PAGES, OUTLET_B: B_PAGES, OUTLET_C: C_PAGES}
_ACCENTED = set("àáâãäçèéêëìíîïñòóôõöùúûüßÀÁÂÃÄÇÈÉÊÌÍÒÓÔÕÖÙÚÜ")
_CP1252_ONLY = set("‘’“”„–—…€")


@dataclass(frozen=True)
class ExpectedArticle:
    """An article a crawl of the scenario must store, under its canonical local URL."""

    outlet: str
    url: str
    title_contains: str
    text_contains: str


@dataclass
class Scenario:
    """The running outlets and what crawling them must (and must not) produce."""

    server: OutletServer
    config_toml: str
    expected: list[ExpectedArticle]
    disallowed_urls: list[str]
    stale_urls: list[str]
    failing_outlets: list[str]
    aliases: dict[str, str] = field(default_factory=dict)  # non-canonical URL -> canonical URL
    outlets: list[OutletEntry] = field(default_factory=list)

    def config(self, db_url: str) -> str:
        """The scenario's ``newsmon.toml`` text with ``db_url`` as the database."""
        return config_toml(db_url, self.outlets, user_agent=USER_AGENT)


@dataclass(frozen=True)
class CorpusPage:
    page_id: str
    url: str
    html: str
    body: str


def corpus_root() -> Path | None:
    """``$NEWSMON_CORPUS`` or ``<repo>/../shared/corpus``, if it holds extraction-bench."""
    root = Path(os.environ.get(CORPUS_ENV) or REPO.parent / "shared" / "corpus")
    return root if (root / "extraction-bench" / "ground-truth.json").is_file() else None


def write_config(scenario: Scenario, path: Path, db_url: str) -> Path:
    """Write the scenario's ``newsmon.toml`` to ``path`` and return it."""
    path.write_text(scenario.config(db_url), encoding="utf-8")
    return path


def start_scenario(corpus: Path, now: datetime | None = None) -> Scenario:
    """Build the five outlets, start serving them and return the manifest.

    The caller owns the server: ``scenario.server.stop()`` when done.
    """
    now = now or datetime.now(UTC).replace(second=0, microsecond=0)
    bench = _Bench(corpus / "extraction-bench")
    a_pages, b_pages, c_pages = _a_pages(bench, now), _b_pages(bench, now), _c_pages(bench, now)
    sites = [
        build_site(OUTLET_A, ADDRESSES[OUTLET_A], list(a_pages.values()), _a_options(a_pages)),
        build_site(OUTLET_B, ADDRESSES[OUTLET_B], list(b_pages.values()), OPTIONS[OUTLET_B]),
        build_site(OUTLET_C, ADDRESSES[OUTLET_C], list(c_pages.values()), OPTIONS[OUTLET_C]),
        Site(OUTLET_D, ADDRESSES[OUTLET_D], routes={}, default=_server_error),
    ]
    server = OutletServer(sites, refused=[ADDRESSES[OUTLET_E]])
    server.start()
    base = {name: f"http://{address}:{server.port}" for name, address in ADDRESSES.items()}
    outlets = _outlet_entries(base, a_pages)
    pages = {OUTLET_A: a_pages, OUTLET_B: b_pages, OUTLET_C: c_pages}
    skipped = {(OUTLET_A, "disallowed"), (OUTLET_B, "stale")}
    expected = [
        _expected(outlet, base[outlet] + page.path, bench.page(PAGE_IDS[outlet][role]))
        for outlet, by_role in pages.items()
        for role, page in by_role.items()
        if (outlet, role) not in skipped
    ]
    return Scenario(
        server=server,
        config_toml=config_toml(DEFAULT_DB_URL, outlets, user_agent=USER_AGENT),
        expected=expected,
        disallowed_urls=[base[OUTLET_A] + a_pages["disallowed"].path],
        stale_urls=[base[OUTLET_B] + b_pages["stale"].path],
        failing_outlets=[OUTLET_D, OUTLET_E],
        aliases={
            base[OUTLET_A] + a_pages["tracked"].feed_path: base[OUTLET_A] + a_pages["tracked"].path,
            base[OUTLET_B] + b_pages["duplicate"].amp_path: base[OUTLET_B]
            + b_pages["duplicate"].path,
        },
        outlets=outlets,
    )


def _a_options(pages: dict[str, SourcePage]) -> SiteOptions:
    return replace(OPTIONS[OUTLET_A], disallow=(pages["disallowed"].path,))


def _a_pages(bench: _Bench, now: datetime) -> dict[str, SourcePage]:
    pages = _pages(bench, A_PAGES, now)
    pages["tracked"].feed_query = TRACKING_QUERY
    return pages


def _b_pages(bench: _Bench, now: datetime) -> dict[str, SourcePage]:
    pages = _pages(bench, B_PAGES, now)
    pages["duplicate"].amp = True
    pages["duplicate"].amp_in_sitemap = True
    stale = pages["stale"]
    stale.published, stale.in_feeds, stale.in_sections = STALE_DATE, False, False
    return pages


def _c_pages(bench: _Bench, now: datetime) -> dict[str, SourcePage]:
    pages = _pages(bench, C_PAGES, now)
    for page in pages.values():
        page.encoding = "windows-1252"
    pages["header_only"].charset_in_meta = False
    pages["meta_only"].charset_in_header = False
    return pages


def _pages(bench: _Bench, roles: dict[str, str], now: datetime) -> dict[str, SourcePage]:
    pages = {}
    for hours, (role, prefix) in enumerate(roles.items(), start=1):
        corpus_page = bench.page(prefix)
        pages[role] = SourcePage(
            html=corpus_page.html,
            original_url=corpus_page.url,
            title=guess_title(corpus_page.html),
            published=now - timedelta(hours=hours),
        )
    return pages


def _outlet_entries(base: dict[str, str], a_pages: dict[str, SourcePage]) -> list[OutletEntry]:
    entries = [outlet_entry(name, base[name], OPTIONS[name]) for name in OPTIONS]
    for name in (OUTLET_D, OUTLET_E):
        entries.append(
            OutletEntry(name, [base[name] + "/feed.xml"], [], [base[name] + "/section/news"])
        )
    return entries


def _expected(outlet: str, url: str, page: CorpusPage) -> ExpectedArticle:
    accented = outlet == OUTLET_C
    return ExpectedArticle(
        outlet=outlet,
        url=url,
        title_contains=_title_fragment(guess_title(page.html)),
        text_contains=_text_fragment(page, accented=accented),
    )


def _server_error(request: RequestInfo) -> Route:
    body = b"<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1></body></html>"
    return Route(body=body, status=500)


def _title_fragment(title: str) -> str:
    """The first words of the headline, before any punctuation: any title extraction keeps them."""
    head = re.split(r"[:|–—(“”\"]", title, maxsplit=1)[0] or title
    return " ".join(head.split()[:4]).strip(" ,.;'’-")


def _text_fragment(page: CorpusPage, accented: bool) -> str:
    """A sentence from the middle of the ground-truth body that is also in the page's text."""
    page_text = _normalise(lxml.html.document_fromstring(page.html).text_content())
    candidates = _middle_out(_sentences(page.body))
    if accented:
        candidates = [s for s in candidates if _ACCENTED & set(s)]
        candidates.sort(key=lambda s: not (_CP1252_ONLY & set(s)))  # stable: middle-out kept
    for sentence in candidates:
        fragment = _clip(sentence, 90)
        if fragment in page_text and (not accented or _ACCENTED & set(fragment)):
            return fragment
    raise AssertionError(f"no usable ground-truth sentence found in {page.url}")


def _sentences(body: str) -> list[str]:
    sentences = []
    for line in body.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            sentence = _normalise(sentence)
            if 60 <= len(sentence) <= 240:
                sentences.append(sentence)
    return sentences


def _middle_out(items: list[str]) -> list[str]:
    middle = len(items) // 2
    order = sorted(range(len(items)), key=lambda index: abs(index - middle))
    return [items[index] for index in order]


def _clip(sentence: str, limit: int) -> str:
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0]


def _normalise(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


class _Bench:
    """Pages of ``extraction-bench``, looked up by id prefix."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
        self._pages: dict[str, CorpusPage] = {}

    def page(self, prefix: str) -> CorpusPage:
        if prefix not in self._pages:
            self._pages[prefix] = self._load(prefix)
        return self._pages[prefix]

    def _load(self, prefix: str) -> CorpusPage:
        matches = [page_id for page_id in self.truth if page_id.startswith(prefix)]
        if len(matches) != 1:
            raise LookupError(f"{prefix!r} matches {len(matches)} extraction-bench pages")
        page_id = matches[0]
        raw = (self.root / "html" / f"{page_id}.html.gz").read_bytes()
        item = self.truth[page_id]
        html = gzip.decompress(raw).decode("utf-8")
        return CorpusPage(page_id, item["url"], html, item["articleBody"])


def corpus_pages(bench: _Bench, sources: list[str], now: datetime, label: str) -> list[SourcePage]:
    """extraction-bench pages as one outlet's articles: ``label n`` titles and slugs, the n-th
    published n + 1 hours before ``now``."""
    return [
        SourcePage(
            html=bench.page(source).html,
            original_url=bench.page(source).url,
            title=f"{label} {n}",
            published=now - timedelta(hours=n + 1),
            slug=f"{label.lower().replace(' ', '-')}-{n}",
        )
        for n, source in enumerate(sources)
    ]


def write_outlet_config(
    path: Path, db_url: str, outlet: str, base: str, options: SiteOptions
) -> Path:
    """A config crawling one local outlet through the listings ``options`` give it."""
    urls = discovery_urls(base, options)
    entry = OutletEntry(outlet, urls.feeds, urls.sitemaps, urls.sections)
    path.write_text(config_toml(db_url, [entry], user_agent="newsmon-tests"), "utf-8")
    return path


def sitemap_xml(locs: list[str], *, index: bool = False) -> bytes:
    """A plain sitemap (``urlset``) of ``locs``, or a sitemap index of them."""
    tag, inner = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    entries = "".join(f"<{inner}><loc>{loc}</loc></{inner}>" for loc in locs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{tag}>'
    ).encode()
