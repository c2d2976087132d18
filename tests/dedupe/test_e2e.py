"""End to end: five local outlets, one crawl, then exact duplicate links and story membership.

- A wire story about a fire in Harlow Creek: verbatim on Lakeside Ledger (first), trimmed on
  Metro Post, re-headlined on Valley Times (whose template adds a byline line).
- The same fire in other words by County Courier and Riverbend Herald: one automatic story with
  the three copies.
- A warehouse fire in Port Ellison, told with much the same vocabulary by Metro Post and
  Riverbend Herald: a second story, never merged with the first. Riverbend serves it under two
  URLs (article and print page): the two rows are merged.
- Lakeside Ledger (on ``localhost``) is also reached under URL variants: a mobile host, an AMP
  page that maps to its article, an AMP page that does not (fetched, then its canonical), a
  redirect, tracking parameters including a configured one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.demo.samples import OutletEntry, config_toml
from pipeline.demo.server import OutletServer, RequestLog, Route
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site, discovery_urls
from storage.db import make_engine, make_session_factory
from storage.models import Article, ArticleUrl, Outlet
from tests.dedupe import texts
from tests.dedupe.pages import wrap
from tests.e2e.test_crawl import run_newsmon
from tests.outlets import _Bench

pytestmark = pytest.mark.e2e

LAKESIDE, METRO, VALLEY = "Lakeside Ledger", "Metro Post", "Valley Times"
COUNTY, RIVERBEND = "County Courier", "Riverbend Herald"
ADDRESSES = {
    LAKESIDE: "127.0.0.1",  # reached as localhost (and m.localhost, which only maps to it)
    METRO: "127.0.0.41",
    VALLEY: "127.0.0.42",
    COUNTY: "127.0.0.43",
    RIVERBEND: "127.0.0.44",
}
TEMPLATES = {  # one real page layout per outlet (extraction-bench ids)
    LAKESIDE: "7a457a4f", METRO: "c467d507", VALLEY: "961bd85c",
    COUNTY: "7de52419", RIVERBEND: "92101975",
}  # fmt: skip
UNRELATED_PAGES = {"mobile": "c7e39ac4", "amp": "0d461229", "redirect": "70cb2d5b"}
HARLOW_STORY = "Harlow Creek fire"
RIVERBEND_STORY = "Port Ellison (Riverbend only)"


@dataclass
class Crawled:
    db_url: str
    config: Path
    base: dict[str, str]
    paths: dict[str, str]
    variants: dict[str, str]  # variant URL -> key of the article it must be an alias of
    requests: list[RequestLog]
    stories: list[dict[str, object]]

    def url(self, key: str) -> str:
        outlet, _ = KEYS[key]
        base = self.base[outlet].replace("localhost", ADDRESSES[LAKESIDE])
        return base + self.paths[key]


KEYS = {  # article key -> (outlet, hours before now it was published)
    "wire": (LAKESIDE, 10), "wire_trimmed": (METRO, 9), "wire_headline": (VALLEY, 8),
    "harlow_own": (COUNTY, 7), "harlow_inquiry": (RIVERBEND, 3),
    "ellison": (METRO, 6), "ellison_2": (RIVERBEND, 5), "ellison_print": (RIVERBEND, 5),
    "budget": (COUNTY, 20), "bakery": (VALLEY, 22),
    "mobile": (LAKESIDE, 30), "amp": (LAKESIDE, 31), "redirect": (LAKESIDE, 32),
}  # fmt: skip
WRITTEN = {
    "wire": (texts.WIRE_TITLE, texts.WIRE),
    "wire_trimmed": (texts.WIRE_TITLE, texts.WIRE_TRIMMED),
    "wire_headline": (texts.WIRE_TITLE_ALT, texts.WIRE),
    "harlow_own": (texts.OWN_HARLOW_1_TITLE, texts.OWN_HARLOW_1),
    "harlow_inquiry": (texts.OWN_HARLOW_2_TITLE, texts.OWN_HARLOW_2),
    "ellison": (texts.OTHER_FIRE_1_TITLE, texts.OTHER_FIRE_1),
    "ellison_2": (texts.OTHER_FIRE_2_TITLE, texts.OTHER_FIRE_2),
    "ellison_print": (texts.OTHER_FIRE_2_TITLE, texts.OTHER_FIRE_2),
    "budget": (texts.UNRELATED_1_TITLE, texts.UNRELATED_1),
    "bakery": (texts.UNRELATED_2_TITLE, texts.UNRELATED_2),
}


def _pages(bench: _Bench, now: datetime) -> dict[str, SourcePage]:
    pages = {}
    for key, (outlet, hours) in KEYS.items():
        if key in WRITTEN:
            title, paragraphs = WRITTEN[key]
            source = bench.page(TEMPLATES[outlet])
            html = wrap(source.html, title, paragraphs)
        else:
            source = bench.page(UNRELATED_PAGES[key])
            html, title = source.html, f"{key} story"
        pages[key] = SourcePage(
            html=html,
            original_url=source.url,
            title=title,
            published=now - timedelta(hours=hours),
            slug=key.replace("_", "-") + ("-print" if key == "ellison_print" else ""),
            amp=key == "amp",
        )
    return pages


def _config(db_url: str, server: OutletServer, base: dict[str, str], paths: dict[str, str]) -> str:
    entries = [
        OutletEntry(name, *vars(discovery_urls(base[name], SiteOptions(rss=True))).values())
        for name in ADDRESSES
    ]
    text = config_toml(db_url, entries, user_agent="newsmon-tests")
    lake = base[LAKESIDE]
    listed = [
        lake.replace("localhost", "m.localhost") + paths["mobile"],
        lake + paths["amp"].replace(".html", ".amp.html"),
        lake + "/amp/" + paths["amp"].rsplit("/", 1)[1],
        lake + "/r/2041",
        lake + paths["wire"] + "?utm_source=rss&src=homepage",
    ]
    marker = f'name = "{LAKESIDE}"\n'
    extra = f'articles = {json.dumps(listed)}\ndomains = ["localhost", "{ADDRESSES[LAKESIDE]}"]\n'
    text = text.replace(marker, marker + extra, 1)
    return text + (
        '\n[dedupe]\ntracking_params = ["src"]\nsyndication_threshold = 0.5\n'
        "story_threshold = 0.25\n\n"
        f'[[stories]]\nname = "{HARLOW_STORY}"\nquery = \'"Harlow Creek" AND fire\'\n\n'
        f'[[stories]]\nname = "{RIVERBEND_STORY}"\nquery = \'"Port Ellison"\'\n'
        f'outlets = ["{RIVERBEND}"]\n'
    )


@pytest.fixture(scope="module")
def crawled(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    bench = _Bench(shared_corpus / "extraction-bench")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    pages = _pages(bench, now)
    sites = []
    for outlet, address in ADDRESSES.items():
        mine = [p for key, p in pages.items() if KEYS[key][0] == outlet]
        sites.append(build_site(outlet, address, mine, SiteOptions(rss=True)))
    lakeside = sites[0]
    lakeside.routes["/r/2041"] = Route(
        b"", status=301, headers={"Location": pages["redirect"].path}
    )
    workdir = tmp_path_factory.mktemp("dedupe")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    with OutletServer(sites) as server:
        base = {
            name: f"http://{'localhost' if name == LAKESIDE else address}:{server.port}"
            for name, address in ADDRESSES.items()
        }
        paths = {key: page.path for key, page in pages.items()}
        config = workdir / "newsmon.toml"
        config.write_text(_config(db_url, server, base, paths), encoding="utf-8")
        started = time.time()
        result = run_newsmon("--config", str(config), "crawl")
        assert result.returncode == 0, result.stderr
        requests = [r for r in server.requests if r.time >= started]
    listed = run_newsmon("--config", str(config), "stories", "--json")
    assert listed.returncode == 0, listed.stderr
    lake = base[LAKESIDE]
    variants = {
        lake.replace("localhost", "m.localhost") + paths["mobile"]: "mobile",
        lake + paths["amp"].replace(".html", ".amp.html"): "amp",
        lake + "/amp/" + paths["amp"].rsplit("/", 1)[1]: "amp",
        lake + "/r/2041": "redirect",
        lake + paths["wire"] + "?utm_source=rss&src=homepage": "wire",
    }
    return Crawled(db_url, config, base, paths, variants, requests, json.loads(listed.stdout))


@pytest.fixture
def session(crawled: Crawled) -> Iterator[object]:
    engine = make_engine(crawled.db_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def article(session, crawled: Crawled, key: str) -> Article:  # type: ignore[no-untyped-def]
    found = session.scalar(select(Article).where(Article.url == crawled.url(key)))
    if found is None:
        found = session.scalar(
            select(Article).join(ArticleUrl).where(ArticleUrl.url == crawled.url(key))
        )
    assert found is not None, key
    return found


def by_name(crawled: Crawled) -> dict[str, dict[str, object]]:
    return {str(s["name"]): s for s in crawled.stories}


def test_wire_copies_point_at_the_earliest_copy(crawled: Crawled, session) -> None:  # type: ignore[no-untyped-def]
    origin = article(session, crawled, "wire")
    assert origin.duplicate_of_id is None
    for key in ("wire_trimmed", "wire_headline"):
        assert article(session, crawled, key).duplicate_of_id == origin.id, key
    copies = set(session.scalars(select(Article.id).where(Article.duplicate_of_id.is_not(None))))
    assert copies == {article(session, crawled, k).id for k in ("wire_trimmed", "wire_headline")}


def test_same_text_under_two_urls_of_one_outlet_is_one_article(crawled: Crawled, session) -> None:  # type: ignore[no-untyped-def]
    kept = article(session, crawled, "ellison_2")
    assert article(session, crawled, "ellison_print").id == kept.id
    urls = {kept.url, *(u.url for u in kept.urls)}
    assert {crawled.url("ellison_2"), crawled.url("ellison_print")} <= urls
    assert [e.kind for e in kept.events] == ["merged"]
    riverbend = session.scalars(
        select(Article.title).join(Outlet).where(Outlet.name == RIVERBEND)
    ).all()
    assert sorted(riverbend) == sorted([texts.OTHER_FIRE_2_TITLE, texts.OWN_HARLOW_2_TITLE])


def test_coverage_in_other_words_is_one_story_with_the_wire_copies(crawled: Crawled) -> None:
    auto = [s for s in crawled.stories if s["kind"] == "auto"]
    harlow = by_name(crawled)[texts.WIRE_TITLE]  # named after its first report
    assert harlow["kind"] == "auto"
    titles = sorted(str(a["title"]) for a in harlow["articles"])  # type: ignore[attr-defined]
    assert titles == sorted(
        [texts.WIRE_TITLE, texts.WIRE_TITLE, texts.WIRE_TITLE_ALT,
         texts.OWN_HARLOW_1_TITLE, texts.OWN_HARLOW_2_TITLE]
    )  # fmt: skip
    assert harlow["outlets"] == [LAKESIDE, METRO, VALLEY, COUNTY, RIVERBEND]  # timeline order
    assert len(auto) == 2


def test_similar_event_in_similar_words_stays_apart(crawled: Crawled) -> None:
    ellison = by_name(crawled)[texts.OTHER_FIRE_1_TITLE]
    assert ellison["kind"] == "auto"
    assert ellison["outlets"] == [METRO, RIVERBEND]
    titles = sorted(str(a["title"]) for a in ellison["articles"])  # type: ignore[attr-defined]
    assert titles == sorted([texts.OTHER_FIRE_1_TITLE, texts.OTHER_FIRE_2_TITLE])


def test_unrelated_articles_are_in_no_story(crawled: Crawled, session) -> None:  # type: ignore[no-untyped-def]
    in_stories = {a["id"] for s in crawled.stories for a in s["articles"]}  # type: ignore[attr-defined]
    for key in ("budget", "bakery", "mobile", "amp", "redirect"):
        assert article(session, crawled, key).id not in in_stories, key


def test_configured_stories_match_by_query_outlets_and_group(crawled: Crawled) -> None:
    stories = by_name(crawled)
    harlow = stories[HARLOW_STORY]
    assert harlow["kind"] == "configured"
    assert sorted(harlow["outlets"]) == sorted([LAKESIDE, METRO, VALLEY, COUNTY, RIVERBEND])  # type: ignore[arg-type]
    assert len(harlow["articles"]) == 5  # type: ignore[arg-type]
    riverbend = stories[RIVERBEND_STORY]
    assert riverbend["outlets"] == [RIVERBEND]
    assert [a["title"] for a in riverbend["articles"]] == [texts.OTHER_FIRE_2_TITLE]  # type: ignore[attr-defined]


def test_stories_json_has_the_contract_fields(crawled: Crawled, session) -> None:  # type: ignore[no-untyped-def]
    harlow = by_name(crawled)[texts.WIRE_TITLE]
    first, *rest = harlow["articles"]  # type: ignore[misc]
    origin = article(session, crawled, "wire")
    assert first["id"] == origin.id
    assert first["outlet"] == LAKESIDE
    assert first["url"] == crawled.url("wire")
    assert first["duplicate_of"] is None
    assert first["versions"] == 1
    assert first["original_title"] == first["title"] == texts.WIRE_TITLE
    assert first["published_at"].startswith(str(origin.published_at.date()))
    assert first["first_seen_at"]
    assert sorted(first["copies"]) == sorted(
        article(session, crawled, k).id for k in ("wire_trimmed", "wire_headline")
    )
    assert {a["duplicate_of"] for a in rest} == {origin.id, None}
    unknown = run_newsmon("--config", str(crawled.config), "stories", "No such story")
    assert unknown.returncode == 2
    assert "no story" in unknown.stderr


def test_url_variants_are_aliases_and_never_fetched_as_duplicates(
    crawled: Crawled, session
) -> None:  # type: ignore[no-untyped-def]
    for variant, key in crawled.variants.items():
        owner = session.scalar(select(Article.id).join(ArticleUrl).where(ArticleUrl.url == variant))
        assert owner == article(session, crawled, key).id, variant
    requested = {r.path for r in crawled.requests}
    assert crawled.paths["amp"].replace(".html", ".amp.html") not in requested  # mapped
    assert "/amp/" + crawled.paths["amp"].rsplit("/", 1)[1] in requested  # guess failed: fetched
    assert all(
        r.address == ADDRESSES[LAKESIDE] or r.address in ADDRESSES.values()
        for r in crawled.requests
    )
    lakeside = session.scalars(
        select(Article.url).join(Outlet).where(Outlet.name == LAKESIDE)
    ).all()
    assert len(lakeside) == 4  # wire, mobile, amp, redirect: each once


def test_a_second_crawl_keeps_links_and_stories(crawled: Crawled) -> None:
    again = run_newsmon("--config", str(crawled.config), "crawl", "--recheck", "none")
    assert again.returncode == 0, again.stderr
    listed = run_newsmon("--config", str(crawled.config), "stories", "--json")
    assert json.loads(listed.stdout) == crawled.stories
    dedupe = run_newsmon("--config", str(crawled.config), "dedupe")
    assert dedupe.returncode == 0, dedupe.stderr
    assert dedupe.stdout.startswith("Processed 0 article(s)")
