"""End to end: an outlet whose articles change between crawls; exact version counts per article.

Eleven real articles, five crawls (`newsmon crawl --recheck all`). Each article is edited in its
own way between crawls: headline, corrected number, appended update, removed paragraph, typo fix,
boilerplate only (ads, sponsored copy and counters in the body, most-read box, header time),
served with an ETag (304s), flip-flopping A/B/A/B/A, gone (404) and back, paywalled once, and
byte-identical without validators (the raw-hash path).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import func, select

from pipeline.demo.server import OutletServer, RequestInfo, Route
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site
from storage.db import make_engine, make_session_factory
from storage.models import Article, ArticleEvent, ArticleUrl, Fetch
from tests.e2e.test_crawl import crawl_env
from tests.outlets import _Bench, write_outlet_config

pytestmark = pytest.mark.e2e

ADDRESS = "127.0.0.20"
OUTLET = "Evolving"
PHASES = 5
SOURCES = {
    "headline": "7a457a4f", "correction": "c467d507", "update": "961bd85c",
    "removal": "7de52419", "minor": "c7e39ac4", "boilerplate": "92101975",
    "etag": "0d461229", "flipflop": "70cb2d5b", "gone": "5a822960", "paywall": "624fcd90",
    "static": "c7e39ac4", "retired": "0dd13570", "slug": "0e014df6",
}  # fmt: skip
EXPECTED_VERSIONS = {
    "headline": 2, "correction": 2, "update": 2, "removal": 2, "minor": 2, "boilerplate": 1,
    "etag": 1, "flipflop": 4, "gone": 1, "paywall": 1, "static": 1, "retired": 1, "slug": 1,
}  # fmt: skip
# A slug changed with the headline: from phase 2 the old URL redirects (301) to this one.
NEW_SLUG = "/2026/12/slug-story-renamed-after-the-rewrite.html"
# How outlets retire an article: a redirect to the home page, whose own Last-Modified is older
# than the article's (so a conditional request carried along would be answered 304).
RETIRED_SINCE = "Mon, 30 Nov 2026 08:00:00 GMT"
HOME_SINCE = "Mon, 01 Jan 2024 00:00:00 GMT"
UPDATE = (
    "Update: Officials confirmed on Tuesday evening that the investigation would continue "
    "into next week, according to a spokesperson for the department."
)

Edit = Callable[[lxml.html.HtmlElement, int], None]


def long_paragraphs(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return [p for p in tree.iter("p") if len(p.text_content()) >= 120]


def prepend_sentence(tree: lxml.html.HtmlElement, sentence: str) -> None:
    first = long_paragraphs(tree)[0]
    first.text = sentence + " " + (first.text or "")


def edit_headline(tree: lxml.html.HtmlElement, phase: int) -> None:
    if phase < 2:
        return
    new = "Rewritten headline: officials change course after outcry"
    for element in tree.iter("title", "h1"):
        element.text = new
        for child in list(element):
            element.remove(child)
    for meta in tree.iter("meta"):
        if meta.get("property") in ("og:title", "twitter:title") or meta.get("name") in (
            "twitter:title", "title"
        ):  # fmt: skip
            meta.set("content", new)


def edit_correction(tree: lxml.html.HtmlElement, phase: int) -> None:
    toll = 12 if phase < 2 else 15
    prepend_sentence(tree, f"Officials said at least {toll} people were hurt in the incident.")


def edit_update(tree: lxml.html.HtmlElement, phase: int) -> None:
    if phase >= 2:
        last = long_paragraphs(tree)[-1]
        update = lxml.html.fragment_fromstring(f"<p>{UPDATE}</p>")
        last.addnext(update)


def edit_removal(tree: lxml.html.HtmlElement, phase: int) -> None:
    if phase >= 2:
        victim = long_paragraphs(tree)[1]
        victim.getparent().remove(victim)


def edit_minor(tree: lxml.html.HtmlElement, phase: int) -> None:
    word = "goverment" if phase < 2 else "government"
    prepend_sentence(tree, f"The {word} declined to comment on Monday.")


def edit_boilerplate(tree: lxml.html.HtmlElement, phase: int) -> None:
    body = tree.find("body")
    assert body is not None
    chrome = lxml.html.fragment_fromstring(
        f'<div><header class="site-header"><time>Updated 10:{phase:02d} GMT</time></header>'
        f'<div class="ad advertisement">Advertisement: {phase * 3} deals on widgets today</div>'
        f'<aside class="most-read"><h2>Most read</h2><ul>'
        f'<li><a href="/tag/politics">Trending story number {phase} everyone reads</a></li>'
        f'<li><a href="/tag/science">Another popular story {phase + 10}</a></li></ul></aside>'
        f'<span class="comment-count">{phase * 7} comments</span></div>'
    )
    body.insert(0, chrome)
    # a counter inside the article itself, between two of its paragraphs
    count = lxml.html.fragment_fromstring(f'<p class="comments-count">{phase * 5} comments</p>')
    long_paragraphs(tree)[1].addnext(count)
    stats = f"{phase * 1234:,} views · {phase * 7} comments · Updated 10:{phase:02d} GMT"
    long_paragraphs(tree)[0].addprevious(lxml.html.fragment_fromstring(f"<p>{stats}</p>"))
    promo = f"SPONSORED: Save {phase * 10} percent on garden furniture this week only"
    ad = lxml.html.fragment_fromstring(f'<div class="inline-promo"><p>{promo}</p></div>')
    long_paragraphs(tree)[2].addnext(ad)


def edit_flipflop(tree: lxml.html.HtmlElement, phase: int) -> None:
    who = "mayor" if phase % 2 == 1 else "governor"
    prepend_sentence(tree, f"The {who} addressed reporters outside city hall on Monday.")


def paywalled(tree: lxml.html.HtmlElement, phase: int) -> None:
    if phase != 2:
        return
    paragraphs = long_paragraphs(tree)
    for paragraph in paragraphs[1:]:
        paragraph.getparent().remove(paragraph)
    wall = lxml.html.fragment_fromstring(
        "<p>Subscribe now to continue reading. Already a subscriber? Log in.</p>"
    )
    paragraphs[0].addnext(wall)


EDITS: dict[str, Edit] = {
    "headline": edit_headline, "correction": edit_correction, "update": edit_update,
    "removal": edit_removal, "minor": edit_minor, "boilerplate": edit_boilerplate,
    "flipflop": edit_flipflop, "paywall": paywalled,
}  # fmt: skip


@dataclass
class Evolving:
    phase: int = 1
    urls: dict[str, str] = field(default_factory=dict)
    home_requests: list[dict[str, str]] = field(default_factory=list)


def renamed_route(original: Callable[[RequestInfo], Route], old_path: str):  # type: ignore[no-untyped-def]
    """The page under its new slug: the same article, its canonical and og:url the new URL."""

    def handler(request: RequestInfo) -> Route:
        route = original(request)
        body = route.body.replace(old_path.encode(), NEW_SLUG.encode())
        return Route(body, route.content_type)

    return handler


def home_route(original: Callable[[RequestInfo], Route], state: Evolving):  # type: ignore[no-untyped-def]
    def handler(request: RequestInfo) -> Route:
        state.home_requests.append(request.headers)
        route = original(request)
        return Route(route.body, route.content_type, headers={"Last-Modified": HOME_SINCE})

    return handler


def evolving_route(kind: str, original: Callable[[RequestInfo], Route], state: Evolving):  # type: ignore[no-untyped-def]
    def handler(request: RequestInfo) -> Route:
        if kind == "gone" and state.phase in (2, 3):
            return Route(b"<html><body><h1>Not found</h1></body></html>", status=404)
        if kind == "retired" and state.phase in (2, 3):
            return Route(b"", status=302, headers={"Location": "/"})
        if kind == "slug" and state.phase >= 2:
            return Route(b"", status=301, headers={"Location": NEW_SLUG})
        route = original(request)
        if kind == "retired":
            return Route(route.body, route.content_type, headers={"Last-Modified": RETIRED_SINCE})
        edit = EDITS.get(kind)
        if edit is None:
            headers = {} if kind == "static" else dict(route.headers)
            return Route(route.body, route.content_type, headers=headers)
        tree = lxml.html.document_fromstring(route.body)
        edit(tree, state.phase)
        body = lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        return Route(body, "text/html; charset=utf-8", headers={"ETag": etag})

    return handler


@dataclass
class History:
    db_url: str
    config: Path
    urls: dict[str, str]
    outputs: list[str]
    home_requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def history(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    bench = _Bench(shared_corpus / "extraction-bench")
    now = datetime.now(UTC).replace(microsecond=0)
    pages = {
        kind: SourcePage(
            html=bench.page(source).html,
            original_url=bench.page(source).url,
            title=f"{kind} story",
            published=now - timedelta(hours=n + 1),
            slug=f"{kind}-story-under-watch",
        )
        for n, (kind, source) in enumerate(SOURCES.items())
    }
    site = build_site(OUTLET, ADDRESS, list(pages.values()), SiteOptions(rss=True))
    state = Evolving()
    slug = pages["slug"].path
    site.routes[NEW_SLUG] = renamed_route(site.routes[slug], slug)  # type: ignore[arg-type]
    for kind, page in pages.items():
        site.routes[page.path] = evolving_route(kind, site.routes[page.path], state)  # type: ignore[arg-type]
    site.routes["/"] = home_route(site.routes["/"], state)  # type: ignore[arg-type]
    workdir = tmp_path_factory.mktemp("versions")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    with OutletServer([site]) as server:
        base = f"http://{ADDRESS}:{server.port}"
        options = SiteOptions(rss=True)
        config = write_outlet_config(workdir / "newsmon.toml", db_url, OUTLET, base, options)
        outputs = []
        for phase in range(1, PHASES + 1):
            state.phase = phase
            result = subprocess.run(
                [sys.executable, "-m", "pipeline", "--config", str(config), "crawl",
                 "--recheck", "all"],
                capture_output=True, text=True, timeout=240, env=crawl_env(), check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
        urls = {k: base + p.path for k, p in pages.items()}
        yield History(db_url, config, urls, outputs, state.home_requests)


def article_of(session, url: str) -> Article:  # type: ignore[no-untyped-def]
    """The article first stored under ``url`` (its URL then, an alias if it moved since)."""
    article = session.scalar(select(Article).where(Article.url == url)) or session.scalar(
        select(Article).join(ArticleUrl).where(ArticleUrl.url == url)
    )
    assert article is not None, url
    return article


@pytest.fixture
def session(history: History):  # type: ignore[no-untyped-def]
    engine = make_engine(history.db_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_exact_version_count_for_every_kind_of_change(history: History, session) -> None:  # type: ignore[no-untyped-def]
    counts = {kind: len(article_of(session, url).versions) for kind, url in history.urls.items()}
    assert counts == EXPECTED_VERSIONS


@pytest.mark.parametrize(
    ("kind", "label"),
    [("headline", "headline"), ("correction", "correction"), ("update", "update"),
     ("removal", "removal"), ("minor", "minor")],
)  # fmt: skip
def test_each_edit_gets_its_label(history: History, session, kind: str, label: str) -> None:  # type: ignore[no-untyped-def]
    latest = article_of(session, history.urls[kind]).versions[-1]
    assert label in latest.labels
    if kind == "headline":
        assert latest.title_changed
    if kind == "update":
        assert latest.words_added >= 20


def test_unchanged_pages_with_an_etag_are_answered_304(history: History, session) -> None:  # type: ignore[no-untyped-def]
    statuses = list(session.scalars(select(Fetch.status).where(Fetch.url == history.urls["etag"])))
    assert statuses.count(304) == PHASES - 1
    assert statuses.count(200) == 1


def test_unchanged_recheck_moves_check_times_on_the_schedule(history: History, session) -> None:  # type: ignore[no-untyped-def]
    for kind in ("etag", "static"):  # a 304, and a byte-identical body without validators
        article = article_of(session, history.urls[kind])
        last_fetch = session.scalar(
            select(func.max(Fetch.fetched_at)).where(Fetch.article_id == article.id)
        )
        assert article.last_checked_at == last_fetch
        assert article.last_changed_at == article.first_seen_at  # never changed
        # younger than 3 hours: checked again 15 minutes after this check (the default schedule)
        assert article.next_check_at == last_fetch + timedelta(minutes=15)


def test_flip_flop_stops_after_a_text_is_stored_twice(history: History, session) -> None:  # type: ignore[no-untyped-def]
    article = article_of(session, history.urls["flipflop"])
    hashes = [v.content_hash for v in article.versions]
    assert hashes[0] == hashes[2]
    assert hashes[1] == hashes[3]
    assert [e.kind for e in article.events] == ["flip-flop"]


def test_gone_article_is_marked_removed_then_reappears(history: History, session) -> None:  # type: ignore[no-untyped-def]
    article = article_of(session, history.urls["gone"])
    assert article.removed_at is None
    assert [e.kind for e in article.events] == ["removed", "reappeared"]
    assert len(article.versions) == 1


def test_an_article_redirected_to_the_home_page_is_removed_then_reappears(  # type: ignore[no-untyped-def]
    history: History, session
) -> None:
    article = article_of(session, history.urls["retired"])
    assert [e.kind for e in article.events] == ["removed", "reappeared"]
    assert "redirected to the outlet's home page" in (article.events[0].detail or "")
    assert len(article.versions) == 1
    # the article's If-Modified-Since stays with the article: the home page never saw it
    followed = [h for h in history.home_requests if "if-modified-since" in h]
    assert followed == []


def test_the_crawl_summary_lists_what_it_found_removed_and_back(history: History) -> None:
    second, fourth = history.outputs[1], history.outputs[3]
    assert "Removed from their sites, or back:" in second
    assert f"{history.urls['gone']} (removed: HTTP 404)" in second
    assert f"{history.urls['retired']} (removed: redirected to the outlet's home page" in second
    assert "Removed from their sites" not in history.outputs[2]  # removed already: no news
    assert f"{history.urls['gone']} (reappeared" in fourth


def test_a_slug_changed_with_a_redirect_moves_the_article_to_its_new_url(  # type: ignore[no-untyped-def]
    history: History, session
) -> None:
    old = history.urls["slug"]
    article = article_of(session, old)
    assert article.url == old.rsplit("/2026/", 1)[0] + NEW_SLUG
    assert [(e.kind, e.detail) for e in article.events] == [("moved", f"{old} -> {article.url}")]
    assert old in {alias.url for alias in article.urls}
    assert len(article.versions) == 1


def test_paywalled_response_is_a_failed_fetch_not_a_version(history: History, session) -> None:  # type: ignore[no-untyped-def]
    article = article_of(session, history.urls["paywall"])
    (event,) = article.events
    assert event.kind == "rejected"
    assert "paywall" in (event.detail or "") or "truncated" in (event.detail or "")
    errors = session.scalars(
        select(Fetch.error).where(Fetch.article_id == article.id, Fetch.error.is_not(None))
    ).all()
    assert len(errors) == 1


def test_no_events_for_articles_that_did_not_change(history: History, session) -> None:  # type: ignore[no-untyped-def]
    for kind in ("boilerplate", "etag", "static"):
        article = article_of(session, history.urls[kind])
        assert (
            session.scalars(select(ArticleEvent).where(ArticleEvent.article_id == article.id)).all()
            == []
        )


def test_small_edits_are_stored_compactly(history: History, session) -> None:  # type: ignore[no-untyped-def]
    for kind in ("correction", "minor", "update"):
        first, second = article_of(session, history.urls[kind]).versions
        assert second.stored_bytes <= 0.25 * first.stored_bytes, kind
        assert second.codec == "zstd+dict"


def test_diff_shows_the_changed_words(history: History, session) -> None:  # type: ignore[no-untyped-def]
    article = article_of(session, history.urls["correction"])
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(history.config), "diff",
         str(article.id), "--format", "json"],
        capture_output=True, text=True, timeout=60, env=crawl_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    assert (diff["from"], diff["to"]) == (1, 2)
    deleted = " ".join(text for op, text in diff["ops"] if op == "delete")
    inserted = " ".join(text for op, text in diff["ops"] if op == "insert")
    assert "12" in deleted
    assert "15" in inserted
    text = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(history.config), "diff",
         history.urls["headline"]],
        capture_output=True, text=True, timeout=60, env=crawl_env(), check=False,
    )  # fmt: skip
    assert "Rewritten headline" in text.stdout
    assert "headline" in text.stdout.splitlines()[-1]
