"""Recheck benchmark: what rechecking N stored articles costs next to their first crawl, one run.

Usage (from the repo root, with the project installed: ``pip install -e .``)::

    python bench/rechecks.py                       # 600 articles over 4 outlets, a few minutes
    python bench/rechecks.py --articles 100 --outlets 2

Real corpus pages are served by nginx as K local outlets (RSS feed + news sitemap, ETag and
Last-Modified on every page) on 127.0.0.30 and up. Each step is a fresh ``python -m pipeline
crawl`` subprocess: the first crawl, a ``--recheck all`` answered with 304s, a ``--recheck all``
of the same bytes by a server that ignores validators (raw-hash path), and a ``--recheck all``
after a small edit of every article. Prints markdown tables and writes them to
``bench/results/rechecks.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from importlib.metadata import version
from itertools import chain
from pathlib import Path

import lxml.html
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.nginx import MAIN_TREE, Nginx, file_of, free_port, render_sites
from bench.pages import marked_html
from bench.scoring import BenchPage, load_corpus
from pipeline.demo.samples import OutletEntry, config_toml
from pipeline.demo.server import Site
from pipeline.demo.sitebuilder import (
    SiteOptions,
    SourcePage,
    build_site,
    discovery_urls,
    guess_title,
    slug_from_url,
)
from storage.db import make_engine, make_session_factory
from storage.models import Article, CrawlRun, CrawlRunOutlet, Fetch, Version

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS_ROOT = REPO_ROOT.parent / "shared" / "corpus"
RESULTS_FILE = REPO_ROOT / "bench" / "results" / "rechecks.md"
CORPORA = ("extraction-bench", "wcxb-dev-articles")
FIRST_ADDRESS = 30  # outlets on 127.0.0.30, .31, ...
OPTIONS = SiteOptions(rss=True, news_sitemap=True)
USER_AGENT = "newsmon-bench"
CONCURRENCY = 16
TIMEOUT = 3600.0
RECHECK_TARGET = 0.10
BYTES_TARGET = 0.25
APPENDED = "A spokesperson confirmed the account on Tuesday evening."
_NUMBER = re.compile(r"\b\d+\b")
_MIN_CHUNK = 60  # characters of a text node worth editing
_NOT_TEXT = frozenset({"script", "style", "noscript", "textarea", "template"})
NOT_EDITED = "not edited (no text node of the stored text found in the page)"
_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")

# Server modes, switched between crawls: (tree of files, validators honoured).
VALIDATORS = (MAIN_TREE, True)  # pages as built: rechecks get 304s
BARE = (MAIN_TREE, False)  # the same bytes, validators ignored: the raw-hash path
EDITED = ("edited", True)  # every article with one small edit


@dataclass(frozen=True, slots=True)
class Outlets:
    """The served outlets, with the article paths of each (the empty one has none)."""

    sites: list[Site]
    articles: dict[str, list[str]]
    empty: str
    port: int

    def address(self, name: str) -> str:
        return next(site.address for site in self.sites if site.name == name)

    def base_url(self, name: str) -> str:
        return f"http://{self.address(name)}:{self.port}"


@dataclass(frozen=True, slots=True)
class Timed:
    """One subprocess: wall time from start to exit and its peak RSS."""

    wall: float
    peak_rss_kb: int | None


@dataclass(frozen=True, slots=True)
class Step:
    """One row of the results table."""

    name: str
    timed: Timed
    requests: int
    status_200: int
    status_304: int
    new_versions: int
    unchanged: int
    db_bytes: int
    server_cpu: float


@dataclass(frozen=True, slots=True)
class VersionSizes:
    """Stored bytes of versions 1 and 2 of every edited article."""

    v1: list[int]
    v2: list[int]
    ratios: list[float]
    v2_delta: int
    v2_total: int


# --- pages and outlets -------------------------------------------------------------------------


def load_pages(corpus_root: Path, count: int) -> list[BenchPage]:
    """The pages of extraction-bench, then wcxb-dev-articles, over again (with a paragraph of
    their own in the article text) when ``count`` is larger than both."""
    pages = list(chain.from_iterable(load_corpus(corpus_root / name) for name in CORPORA))
    if not pages:
        raise SystemExit(f"no corpus pages under {corpus_root}")
    chosen = []
    for n in range(count):
        page = pages[n % len(pages)]
        if n >= len(pages):
            page = replace(page, html=marked_html(page.html, page.expected, n))
        chosen.append(page)
    return chosen


def source_pages(pages: list[BenchPage], now: datetime) -> list[SourcePage]:
    """Distinct slugs, published over the last 20 hours: young, never stale."""
    spread = timedelta(hours=20) / max(len(pages), 1)
    return [
        SourcePage(
            html=page.html,
            original_url=page.url,
            title=guess_title(page.html) or f"Article {index}",
            published=now - timedelta(minutes=1) - index * spread,
            slug=f"{index:04d}-{slug_from_url(page.url)[:60]}",
        )
        for index, page in enumerate(pages)
    ]


def build_outlets(pages: list[SourcePage], outlets: int, port: int) -> Outlets:
    """``outlets`` outlets sharing the pages round-robin, plus one outlet with no articles."""
    sites, articles = [], {}
    for k in range(outlets):
        name = f"Bench Outlet {k + 1}"
        mine = pages[k::outlets]
        sites.append(build_site(name, f"127.0.0.{FIRST_ADDRESS + k}", mine, OPTIONS))
        articles[name] = [page.path for page in mine]
    empty = "Empty Outlet"
    sites.append(build_site(empty, f"127.0.0.{FIRST_ADDRESS + outlets}", []))
    return Outlets(sites, articles, empty, port)


# --- small edits -------------------------------------------------------------------------------


def make_edits(root: Path, outlets: Outlets, texts: dict[str, str]) -> tuple[int, dict[str, int]]:
    """One small edit per stored article, in a text node that made it into its stored text,
    written to the ``edited`` tree (a hard-linked copy of the pages, edited files replaced).

    The edit is made in the served bytes (not by re-serialising the page), so the raw HTML
    differs from version 1 by a few bytes, as it would on a real site.
    """
    pages, edited_root = root / MAIN_TREE, root / EDITED[0]
    shutil.rmtree(edited_root, ignore_errors=True)
    shutil.copytree(pages, edited_root, copy_function=os.link)
    edited_count = 0
    kinds: dict[str, int] = {}
    for site in outlets.sites:
        for index, path in enumerate(outlets.articles.get(site.name, [])):
            url = outlets.base_url(site.name) + path
            if url not in texts:
                continue
            body = file_of(pages, site.address, path).read_bytes()
            edited = edit_page(body, texts[url], number=index % 2 == 0)
            if edited is None:
                kinds[NOT_EDITED] = kinds.get(NOT_EDITED, 0) + 1
                continue
            target = file_of(edited_root, site.address, path)
            target.unlink()  # a new file (new mtime, so a new ETag), not the shared inode
            target.write_bytes(edited[0])
            edited_count += 1
            kinds[edited[1]] = kinds.get(edited[1], 0) + 1
    return edited_count, kinds


def edit_page(body: bytes, stored_text: str, *, number: bool) -> tuple[bytes, str] | None:
    """Change a number (if ``number`` and one is found) or append a sentence, in the page's bytes.

    The text node edited is one that made it into the stored text, so the edit is a real change;
    every copy of it in the page (JSON-LD, meta description) changes too, as on a real site.
    """
    html = body.decode("utf-8")
    text = " ".join(stored_text.split())
    tree = lxml.html.document_fromstring(body)
    candidates = list(_served_chunks(tree, html, text))
    if not candidates:
        return _reserialised_edit(tree, text)
    with_number = [c for c in candidates if _NUMBER.search(c)] if number else []
    chosen = (with_number or candidates)[0]
    edited, kind = _edit_chunk(chosen, number)
    return html.replace(chosen, edited).encode("utf-8"), kind


def _served_chunks(tree: lxml.html.HtmlElement, html: str, text: str) -> Iterator[str]:
    """Long text nodes of the stored text, as they are written in the served HTML."""
    for chunk in _text_chunks(tree):
        if " ".join(chunk.split()) in text:
            form = next((f for f in (chunk, escape(chunk, quote=False)) if f in html), None)
            if form is not None:
                yield form


def _reserialised_edit(tree: lxml.html.HtmlElement, text: str) -> tuple[bytes, str] | None:
    """Fallback for text written with character references: edit the tree and serialise it."""
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in _NOT_TEXT:
            continue
        for attribute in ("text", "tail"):
            chunk = (getattr(element, attribute) or "").strip()
            if len(chunk) >= _MIN_CHUNK and " ".join(chunk.split()) in text:
                setattr(element, attribute, f"{getattr(element, attribute)} {APPENDED} ")
                data: bytes = lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")
                return data, "sentence appended (page re-serialised)"
    return None


def _text_chunks(tree: lxml.html.HtmlElement) -> Iterator[str]:
    """Long text nodes, those inside ``<p>`` first (some pages have no ``<p>`` at all)."""
    for paragraph in tree.iter("p"):
        yield from _long(paragraph.itertext())
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tag not in _NOT_TEXT:
            yield from _long((element.text or "", element.tail or ""))


def _long(chunks: Iterable[str]) -> Iterator[str]:
    for chunk in chunks:
        chunk = chunk.strip()
        if len(chunk) >= _MIN_CHUNK:
            yield chunk


def _edit_chunk(chunk: str, number: bool) -> tuple[str, str]:
    found = _NUMBER.search(chunk) if number else None
    if found is None:
        return f"{chunk} {APPENDED}", "sentence appended"
    changed = str(int(found.group()) + 1)
    return chunk[: found.start()] + changed + chunk[found.end() :], "number changed"


# --- subprocesses --------------------------------------------------------------------------------


def crawl_env() -> dict[str, str]:
    """No proxy may see loopback traffic (or send anything elsewhere)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_newsmon(args: list[str], workdir: Path) -> Timed:
    """``python -m pipeline ARGS``, timed start to exit; peak RSS from ``/usr/bin/time -v``."""
    command = [sys.executable, "-m", "pipeline", *args]
    time_file = workdir / "time.txt"
    gnu_time = shutil.which("time", path="/usr/bin")
    if gnu_time:
        command = [gnu_time, "-v", "-o", str(time_file), *command]
    start = time.perf_counter()
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=crawl_env(),
        cwd=workdir,
        check=False,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return Timed(wall, _peak_rss_kb(time_file) if gnu_time else None)


def _peak_rss_kb(time_file: Path) -> int | None:
    found = _RSS.search(time_file.read_text(encoding="utf-8", errors="replace"))
    return int(found.group(1)) if found else None


def write_config(path: Path, db_url: str, entries: list[OutletEntry]) -> Path:
    """The demo's loopback config with no delay and high per-outlet concurrency."""
    text = config_toml(db_url, entries, user_agent=USER_AGENT)
    text = text.replace("[crawl]\n", f"[crawl]\nconcurrency_per_outlet = {CONCURRENCY}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def outlet_entries(outlets: Outlets, names: list[str]) -> list[OutletEntry]:
    entries = []
    for name in names:
        found = discovery_urls(outlets.base_url(name), OPTIONS)
        entries.append(OutletEntry(name, found.feeds, found.sitemaps, found.sections))
    return entries


# --- database figures ----------------------------------------------------------------------------


@contextmanager
def session_for(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def run_figures(db_url: str) -> tuple[int, int, int, int, int]:
    """Of the latest crawl run: requests, 200 and 304 article fetches, total versions,
    unchanged articles."""
    with session_for(db_url) as session:
        run_id = session.scalar(select(func.max(CrawlRun.id)))
        requests = session.scalar(
            select(func.count()).select_from(Fetch).where(Fetch.run_id == run_id)
        )
        statuses = dict(
            session.execute(
                select(Fetch.status, func.count())
                .where(Fetch.run_id == run_id, Fetch.kind == "article")
                .group_by(Fetch.status)
            ).all()
        )
        versions = session.scalar(select(func.count()).select_from(Version))
        unchanged = session.scalar(
            select(func.coalesce(func.sum(CrawlRunOutlet.unchanged), 0)).where(
                CrawlRunOutlet.run_id == run_id
            )
        )
    return (
        requests or 0,
        statuses.get(200, 0),
        statuses.get(304, 0),
        versions or 0,
        unchanged or 0,
    )


def stored_texts(db_url: str) -> dict[str, str]:
    with session_for(db_url) as session:
        rows = session.execute(select(Article.url, Article.text)).all()
    return {str(url): str(text) for url, text in rows}


def version_sizes(db_url: str) -> VersionSizes:
    with session_for(db_url) as session:
        rows = session.execute(
            select(Version.article_id, Version.number, Version.stored_bytes, Version.codec)
        ).all()
    first = {a: size for a, n, size, _ in rows if n == 1}
    second = {a: (size, codec) for a, n, size, codec in rows if n == 2}
    pairs = [(first[a], size) for a, (size, _) in second.items() if a in first]
    return VersionSizes(
        v1=list(first.values()),
        v2=[size for size, _ in second.values()],
        ratios=[v2 / v1 for v1, v2 in pairs if v1],
        v2_delta=sum(codec == "zstd+dict" for _, codec in second.values()),
        v2_total=len(second),
    )


def fresh_sqlite(path: Path) -> str:
    """A URL for a new, empty database file (a kept ``--workdir`` may hold an old one)."""
    for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        old.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def db_size(db_url: str) -> int:
    """The SQLite file plus its write-ahead log, if any is left."""
    path = Path(db_url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Bench:
    """The served outlets, the working folder and the steps measured so far."""

    nginx: Nginx
    outlets: Outlets
    workdir: Path
    config: Path
    db_url: str
    steps: list[Step] = field(default_factory=list)
    versions: int = 0
    loads: list[float] = field(default_factory=list)  # 1-minute load average before each step
    notes: list[str] = field(default_factory=list)  # checks that did not hold

    def crawl(self, name: str, mode: tuple[str, bool], *extra: str) -> Step:
        tree, validators = mode
        self.nginx.switch(tree, validators=validators)
        self.loads.append(os.getloadavg()[0])
        cpu = self.nginx.cpu_seconds()
        timed = run_newsmon(["--config", str(self.config), "crawl", *extra], self.workdir)
        cpu = self.nginx.cpu_seconds() - cpu
        requests, ok, not_modified, versions, unchanged = run_figures(self.db_url)
        step = Step(
            name,
            timed,
            requests,
            ok,
            not_modified,
            versions - self.versions,
            unchanged,
            db_size(self.db_url),
            cpu,
        )
        self.versions = versions
        self.steps.append(step)
        print(f"  {name}: {timed.wall:.1f} s", file=sys.stderr, flush=True)
        return step


def startup_costs(outlets: Outlets, workdir: Path) -> list[tuple[str, Timed]]:
    """Fixed overhead of a crawl subprocess: interpreter + CLI, then an outlet with no articles."""
    db_url = fresh_sqlite(workdir / "empty.db")
    config = write_config(workdir / "empty.toml", db_url, outlet_entries(outlets, [outlets.empty]))
    crawl = ["--config", str(config), "crawl"]
    return [
        ("`newsmon --help`", run_newsmon(["--help"], workdir)),
        ("crawl, 0 articles, new DB", run_newsmon(crawl, workdir)),
        ("crawl, 0 articles, existing DB", run_newsmon(crawl, workdir)),
    ]


def run_bench(
    pages: list[SourcePage], outlet_count: int, workdir: Path
) -> tuple[Bench, list[tuple[str, Timed]], VersionSizes, dict[str, int]]:
    port = free_port()
    outlets = build_outlets(pages, outlet_count, port)
    root = workdir / "sites"
    render_sites(outlets.sites, root / MAIN_TREE, port)
    nginx = Nginx(root, [site.address for site in outlets.sites], port)
    nginx.start()
    try:
        startup = startup_costs(outlets, workdir)
        db_url = fresh_sqlite(workdir / "news.db")
        names = list(outlets.articles)
        config = write_config(workdir / "newsmon.toml", db_url, outlet_entries(outlets, names))
        bench = Bench(nginx, outlets, workdir, config, db_url)
        first = bench.crawl("first crawl", VALIDATORS)
        served = sum(len(paths) for paths in outlets.articles.values())
        _expect(first.status_200 == served, f"{first.status_200} of {served} pages fetched")
        _note(
            bench,
            first.new_versions == served,
            f"first crawl: {first.new_versions} "
            f"versions for {served} pages (copies whose text came out identical are merged)",
        )
        for name, mode in (("recheck, 304 path", VALIDATORS), ("recheck, hash path", BARE)):
            step = bench.crawl(name, mode, "--recheck", "all")
            _note(bench, step.new_versions == 0, f"{name}: {step.new_versions} new versions")
        edited, kinds = make_edits(root, outlets, stored_texts(db_url))
        step = bench.crawl("recheck, small edits", EDITED, "--recheck", "all")
        _note(
            bench,
            step.new_versions == edited,
            f"small edits: {step.new_versions} new versions for {edited} edited pages",
        )
    finally:
        nginx.stop()
    return bench, startup, version_sizes(db_url), kinds


def _note(bench: Bench, condition: bool, observation: str) -> None:
    """A check that does not stop the run: reported with the results when it fails."""
    if not condition:
        bench.notes.append(observation)


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark assertion failed: {problem}")


# --- report --------------------------------------------------------------------------------------


def steps_table(steps: list[Step], articles: int) -> str:
    first = steps[0].timed.wall
    lines = [
        "| step | wall s | ÷ first crawl | articles/s | requests | 200 | 304 | new versions "
        "| unchanged | peak RSS MB | DB MB | server CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in steps:
        lines.append(
            f"| {s.name} | {s.timed.wall:.2f} | {s.timed.wall / first:.3f} "
            f"| {articles / s.timed.wall:.1f} | {s.requests} | {s.status_200} | {s.status_304} "
            f"| {s.new_versions} | {s.unchanged} | {_mb(s.timed.peak_rss_kb)} "
            f"| {s.db_bytes / 1e6:.2f} | {s.server_cpu:.2f} |"
        )
    return "\n".join(lines)


def startup_table(startup: list[tuple[str, Timed]]) -> str:
    lines = ["| fixed cost | wall s | peak RSS MB |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {t.wall:.2f} | {_mb(t.peak_rss_kb)} |" for name, t in startup]
    return "\n".join(lines)


def sizes_table(sizes: VersionSizes, kinds: dict[str, int]) -> str:
    mean_ratio = statistics.fmean(sizes.v2) / statistics.fmean(sizes.v1)
    over = sum(r > BYTES_TARGET for r in sizes.ratios)
    edits = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return "\n".join(
        [
            "| stored_bytes (text + raw HTML) | mean | median |",
            "| --- | ---: | ---: |",
            f"| version 1 ({len(sizes.v1)}) | {statistics.fmean(sizes.v1):,.0f} "
            f"| {statistics.median(sizes.v1):,.0f} |",
            f"| version 2 ({len(sizes.v2)}) | {statistics.fmean(sizes.v2):,.0f} "
            f"| {statistics.median(sizes.v2):,.0f} |",
            f"| v2 / v1 | {mean_ratio:.3f} (of means) | {statistics.median(sizes.ratios):.3f} "
            "(per article) |",
            "",
            f"Edits: {edits}. Version 2 stored as `zstd+dict`: {sizes.v2_delta} of "
            f"{sizes.v2_total}; per-article v2/v1 above {BYTES_TARGET}: {over} "
            f"(max {max(sizes.ratios):.3f}).",
        ]
    )


def acceptance(steps: list[Step], sizes: VersionSizes) -> str:
    first = steps[0].timed.wall
    checks = [
        (f"{s.name}: wall ÷ first crawl", s.timed.wall / first, RECHECK_TARGET) for s in steps[1:3]
    ]
    checks.append(
        (
            "small-edit version: mean stored bytes v2 ÷ v1",
            statistics.fmean(sizes.v2) / statistics.fmean(sizes.v1),
            BYTES_TARGET,
        )
    )
    return "\n".join(
        f"- {label}: {value:.3f} (target ≤ {target:.2f}) — {'met' if value <= target else 'MISSED'}"
        for label, value, target in checks
    )


def environment_line(articles: int, outlets: int, loads: list[float]) -> str:
    """Where and how it ran; a busy machine (load above nproc) slows every step."""
    packages = ("scrapy", "trafilatura", "SQLAlchemy", "Twisted", "zstandard")
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    today = datetime.now(UTC).date().isoformat()
    return (
        f"Run {today} on Python {platform.python_version()} ({platform.machine()}, "
        f"nproc {os.cpu_count()}): {versions}. N = {articles} articles over K = {outlets} "
        f'outlets; `delay = "0s"`, `concurrency_per_outlet = {CONCURRENCY}`; peak RSS: the '
        "largest process of the crawl (`/usr/bin/time -v`; extraction workers are not summed); "
        "outlets served by nginx from files (server CPU: its master and worker); 1-minute "
        f"load average before the steps {min(loads):.1f} to {max(loads):.1f}."
    )


def _mb(kb: int | None) -> str:
    return f"{kb / 1024:.0f}" if kb is not None else "n/a"


def report(
    bench: Bench, startup: list[tuple[str, Timed]], sizes: VersionSizes, kinds: dict[str, int]
) -> str:
    articles = sum(len(paths) for paths in bench.outlets.articles.values())
    return "\n\n".join(
        [
            "# Versions and rechecks",
            environment_line(articles, len(bench.outlets.articles), bench.loads),
            steps_table(bench.steps, articles),
            startup_table(startup),
            sizes_table(sizes, kinds),
            "Acceptance (issue 3):\n\n" + acceptance(bench.steps, sizes),
            *(
                ["Checks that did not hold:\n\n" + "\n".join(f"- {n}" for n in bench.notes)]
                if bench.notes
                else []
            ),
        ]
    )


# --- command line --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=600, help="N articles (default 600)")
    parser.add_argument("--outlets", type=int, default=4, help="K outlets (default 4)")
    parser.add_argument(
        "--corpus-root",
        type=Path,
        default=Path(os.environ.get("NEWSMON_CORPUS", DEFAULT_CORPUS_ROOT)),
        help="folder holding the corpora (default: $NEWSMON_CORPUS or ../shared/corpus)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="markdown file")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep config, DB and logs here (default: temp)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.outlets <= 200 or args.articles < 1:
        parser.error("need 1 to 200 outlets and at least one article")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    now = datetime.now(UTC).replace(microsecond=0)
    pages = source_pages(load_pages(args.corpus_root, args.articles), now)
    with _workdir(args.workdir) as workdir:
        bench, startup, sizes, kinds = run_bench(pages, args.outlets, workdir)
    text = report(bench, startup, sizes, kinds)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


@contextmanager
def _workdir(chosen: Path | None) -> Iterator[Path]:
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen
        return
    with tempfile.TemporaryDirectory(prefix="newsmon-rechecks-") as folder:
        yield Path(folder)


if __name__ == "__main__":
    sys.exit(main())
