"""End to end: a line every article of an outlet carries (a newsletter promo) is removed, and
learning it never makes a stored article look edited.

Ten real articles on one outlet, each with the same promo paragraph in its body. Three crawls
(``--recheck all``): in the first, seven articles answer (three answer 404) and the outlet's
window learns the promo; in the second, every page is served again with different bytes but
the same text, and the three late articles appear; in the third, one article gets a real update.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import select

from pipeline.demo.server import OutletServer, RequestInfo, Route
from pipeline.demo.sitebuilder import SiteOptions, build_site
from pipeline.extraction.boilerplate import line_keys
from storage.boilerplate import boilerplate_windows
from storage.db import make_engine, make_session_factory
from storage.models import Article, Version
from storage.repository import version_content
from tests.e2e.test_crawl import run_newsmon
from tests.e2e.test_versions import UPDATE, long_paragraphs
from tests.outlets import _Bench, corpus_pages, write_outlet_config

pytestmark = pytest.mark.e2e

ADDRESS = "127.0.0.21"
OUTLET = "Promoted"
# a house promo no clean-up rule knows (a sign-up line would be dropped at once): learned
PROMO = "The Morning Brief: our editors pick the day's best stories, every weekday at 6am."
SOURCES = [
    "7a457a4f", "c467d507", "961bd85c", "7de52419", "c7e39ac4",
    "92101975", "0d461229", "70cb2d5b", "5a822960", "624fcd90",
]  # fmt: skip
LATE = {7, 8, 9}  # answer 404 in the first crawl
UPDATED = 0  # gets a real edit in the third crawl


@dataclass
class Phase:
    number: int = 1


def promoted_route(index: int, original, phase: Phase):  # type: ignore[no-untyped-def]
    def handler(request: RequestInfo) -> Route:
        if index in LATE and phase.number == 1:
            return Route(b"<html><body><h1>Not found</h1></body></html>", status=404)
        tree = lxml.html.document_fromstring(original(request).body)
        paragraphs = long_paragraphs(tree)
        paragraphs[0].addnext(lxml.html.fragment_fromstring(f"<p>{PROMO}</p>"))
        if index == UPDATED and phase.number >= 3:
            paragraphs[-1].addnext(lxml.html.fragment_fromstring(f"<p>{UPDATE}</p>"))
        head = tree.find("head")
        assert head is not None
        head.append(lxml.html.fragment_fromstring(f'<meta name="build" content="{phase.number}">'))
        body = lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")
        return Route(body, "text/html; charset=utf-8")

    return handler


@dataclass
class Crawled:
    db_url: str
    urls: list[str]


@pytest.fixture(scope="module")
def crawled(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    bench = _Bench(shared_corpus / "extraction-bench")
    now = datetime.now(UTC).replace(microsecond=0)
    pages = corpus_pages(bench, SOURCES, now, "Promoted story")
    site = build_site(OUTLET, ADDRESS, pages, SiteOptions(rss=True))
    phase = Phase()
    for index, page in enumerate(pages):
        site.routes[page.path] = promoted_route(index, site.routes[page.path], phase)  # type: ignore[arg-type]
    workdir = tmp_path_factory.mktemp("repeated")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    with OutletServer([site]) as server:
        base = f"http://{ADDRESS}:{server.port}"
        options = SiteOptions(rss=True)
        config = write_outlet_config(workdir / "newsmon.toml", db_url, OUTLET, base, options)
        for number in (1, 2, 3):
            phase.number = number
            result = run_newsmon("--config", str(config), "crawl", "--recheck", "all")
            assert result.returncode == 0, result.stderr
        yield Crawled(db_url, [base + page.path for page in pages])


@pytest.fixture
def articles(crawled: Crawled) -> Iterator[list[Article]]:
    engine = make_engine(crawled.db_url)
    with make_session_factory(engine)() as session:
        found = {a.url: a for a in session.scalars(select(Article))}
        yield [found[url] for url in crawled.urls]
    engine.dispose()


def test_articles_first_seen_after_the_outlet_was_learned_lose_the_promo(
    articles: list[Article],
) -> None:
    for index in LATE:
        assert PROMO not in articles[index].text
        assert len(articles[index].text.split()) > 100


def test_learning_the_promo_does_not_make_stored_articles_look_edited(
    articles: list[Article],
) -> None:
    for index, article in enumerate(articles):
        expected = 2 if index == UPDATED else 1
        assert len(article.versions) == expected, (index, article.url)


def test_pages_stored_before_the_promo_was_learned_lose_it_at_the_end_of_that_crawl(
    crawled: Crawled,
) -> None:
    """The first pages of an outlet's first crawl are filtered before its window has seen
    enough pages: at the end of the crawl their only version is filtered again, search too."""
    engine = make_engine(crawled.db_url)
    with make_session_factory(engine)() as session:
        stored = list(session.scalars(select(Version)))
        texts = [version_content(session, version)[0] for version in stored]
    engine.dispose()
    assert len(texts) == len(SOURCES) + 1
    assert not [text for text in texts if PROMO in text]
    found = run_newsmon("--db", crawled.db_url, "search", "--json", '"Morning Brief"')
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == ""
    word = max((w for w in texts[0].split() if w.isalpha()), key=len)  # still indexed
    assert run_newsmon("--db", crawled.db_url, "search", "--json", word).stdout.strip()


def test_a_real_edit_is_stored_without_the_promo_and_counts_only_the_edit(
    articles: list[Article],
) -> None:
    latest = articles[UPDATED].versions[-1]
    assert PROMO not in articles[UPDATED].text
    assert UPDATE in articles[UPDATED].text
    assert "update" in latest.labels
    assert latest.words_removed == 0
    assert latest.words_added == len(UPDATE.split())


def test_the_outlets_window_is_kept_for_the_next_crawl(crawled: Crawled) -> None:
    engine = make_engine(crawled.db_url)
    with make_session_factory(engine)() as session:
        (pages,) = boilerplate_windows(session, [OUTLET]).values()
    engine.dispose()
    assert len(pages) == len(SOURCES)  # every new article once, rechecks never
    (promo_key,) = line_keys(PROMO)
    # learned from the text as extracted (one page's extraction leaves the promo out)
    assert sum(promo_key in page for page in pages) >= len(SOURCES) - 2
