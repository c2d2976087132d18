"""Crawl throughput, side by side in one run: fetch ceiling, extraction ceiling, end to end.

    python bench/throughput.py [--pages 2000] [--outlets 4] [--workers N] [--repeat 3]

Local outlets built from the corpus pages are written to disk and served by nginx (Python's
http.server is too slow to benchmark against; see PITFALLS.md) on 127.0.0.40.. with feeds and
sitemaps. Then, each measured with the peak RSS of its whole process tree:

(a) fetch ceiling: the same spider with extraction and storage switched off;
(b) extraction ceiling: the same pages through newsmon's extraction in a process pool over
    all cores, no network, no database;
(c) ``newsmon crawl`` end to end into a fresh SQLite database.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.nginx import MAIN_TREE, Nginx, file_of, free_port, render_sites  # noqa: E402
from bench.pages import marked_html  # noqa: E402
from bench.procs import cpu_ticks, descendants, rss_kb  # noqa: E402
from pipeline.demo.samples import OutletEntry, config_toml  # noqa: E402
from pipeline.demo.sitebuilder import (  # noqa: E402
    SiteOptions,
    SourcePage,
    build_site,
    discovery_urls,
)
from pipeline.workers import default_workers  # noqa: E402

OPTIONS = SiteOptions(rss=True, news_sitemap=True, plain_sitemap=True)
RESULTS = REPO / "bench" / "results" / "throughput.md"
FIRST_ADDRESS = 40


@dataclass(frozen=True)
class Measured:
    name: str
    pages: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float  # user + system of the whole process tree
    peak_main_mb: float = 0.0
    peak_child_mb: float = 0.0
    main_cpu_seconds: float = 0.0  # the measured process alone: the crawler, or the pool's parent

    @property
    def main_cpu_ms_per_page(self) -> float:
        return 1000 * self.main_cpu_seconds / self.pages if self.pages else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu_seconds / self.pages if self.pages else 0.0

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def corpus_root() -> Path:
    return Path(os.environ.get("NEWSMON_CORPUS") or REPO.parent / "shared" / "corpus")


def load_sources(root: Path) -> list[tuple[str, str, str]]:
    """(html, original url, ground-truth text) of every corpus page."""
    sources = []
    for name in ("extraction-bench", "wcxb-dev-articles"):
        folder = root / name
        truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
        for page_id, item in sorted(truth.items()):
            html = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
            sources.append((html.decode("utf-8", "replace"), item["url"], item["articleBody"]))
    return sources


def source_pages(sources: list[tuple[str, str, str]], count: int) -> list[SourcePage]:
    """``count`` pages with distinct URLs and a distinct paragraph in the article text, so
    that no two are duplicates even where a corpus page is used twice."""
    now = datetime.now(UTC).replace(microsecond=0)
    pages = []
    for n in range(count):
        html, url, expected = sources[n % len(sources)]
        pages.append(
            SourcePage(
                html=marked_html(html, expected, n),
                original_url=url,
                title=f"Bench article {n}",
                published=now - timedelta(minutes=n % 1440),
                slug=f"bench-article-{n}",
            )
        )
    return pages


def write_sites(pages: list[SourcePage], outlets: int, root: Path, port: int) -> list[OutletEntry]:
    """Render every outlet's routes to files under ``root/pages/<address>/``."""
    entries = []
    for index in range(outlets):
        address = f"127.0.0.{FIRST_ADDRESS + index}"
        name = f"Bench {index + 1}"
        site = build_site(name, address, pages[index::outlets], OPTIONS)
        render_sites([site], root / MAIN_TREE, port)
        urls = discovery_urls(f"http://{address}:{port}", OPTIONS)
        entries.append(OutletEntry(name, urls.feeds, urls.sitemaps, urls.sections))
    return entries


class TreeRss:
    """Peak of the summed RSS of a process and all its descendants, sampled every 100 ms,
    and their CPU time (the last reading of each process: one that ends between two samples
    loses at most its last 100 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self.peak_main_kb = 0  # the measured process alone (crawler, pool's parent)
        self.peak_largest_child_kb = 0  # its largest descendant (an extraction worker)
        self._cpu_ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    @property
    def main_cpu_seconds(self) -> float:
        return self._cpu_ticks.get(self.pid, 0) / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> None:
        while not self._stop.is_set():
            tree = descendants(self.pid)
            sizes = {pid: rss_kb(pid) for pid in tree}
            self.peak_kb = max(self.peak_kb, sum(sizes.values()))
            self.peak_main_kb = max(self.peak_main_kb, sizes.get(self.pid, 0))
            children = [kb for pid, kb in sizes.items() if pid != self.pid]
            self.peak_largest_child_kb = max(self.peak_largest_child_kb, max(children, default=0))
            for pid in tree:
                self._cpu_ticks[pid] = max(self._cpu_ticks.get(pid, 0), cpu_ticks(pid))
            self._stop.wait(0.1)


def run_measured(name: str, args: list[str], pages_of: callable) -> Measured:  # type: ignore[valid-type]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    start = time.perf_counter()
    env["PYTHONPATH"] = str(REPO)
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with TreeRss(process.pid) as rss:
        out, err = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"{name} failed: {err.decode()[-2000:]}")
    return Measured(
        name,
        pages_of(out.decode()),
        seconds,
        rss.peak_kb / 1024,
        rss.cpu_seconds,
        rss.peak_main_kb / 1024,
        rss.peak_largest_child_kb / 1024,
        rss.main_cpu_seconds,
    )


FETCH_ONLY_CHILD = """
import sys, json
from pipeline.config import load_config
from pipeline.crawl import CrawlOptions, crawl_settings, prepare_database, create_run
from scrapy.crawler import CrawlerProcess
config = load_config(sys.argv[1]); url = sys.argv[2]
prepare_database(config, url)
settings = crawl_settings(config, url, CrawlOptions())
settings.set("ITEM_PIPELINES", {}, priority="cmdline")
settings.set("NEWSMON_RUN_ID", create_run(url), priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler("news")
process.crawl(crawler)
process.start()
print(json.dumps({"pages": crawler.stats.get_value("item_scraped_count", 0)}))
"""


def measure_fetch_ceiling(config: Path, db_url: str) -> Measured:
    return run_measured(
        "(a) fetch ceiling: spider only, no extraction, no storage",
        [sys.executable, "-c", FETCH_ONLY_CHILD, str(config), db_url],
        lambda out: json.loads(out.strip().splitlines()[-1])["pages"],
    )


EXTRACT_ONLY_CHILD = """
import sys, json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from pipeline.workers import extract_in_worker
jobs = [line.split("\t") for line in Path(sys.argv[1]).read_text().splitlines()]
workers = int(sys.argv[2])
def extract(job):
    path, url = job
    page = Path(path).read_bytes()
    return extract_in_worker(page, url, "text/html", features=False).article is not None
with ProcessPoolExecutor(workers) as pool:
    ok = sum(pool.map(extract, jobs, chunksize=4))
print(json.dumps({"pages": ok}))
"""


def measure_extraction_ceiling(files: list[tuple[Path, str]], workers: int, work: Path) -> Measured:
    """``files``: each page's file and the URL the crawl fetches it from."""
    listing = work / "pages.txt"
    listing.write_text("\n".join(f"{path}\t{url}" for path, url in files), encoding="utf-8")
    return run_measured(
        f"(b) extraction ceiling: {workers} worker processes, no network, no database",
        [sys.executable, "-c", EXTRACT_ONLY_CHILD, str(listing), str(workers)],
        lambda out: json.loads(out.strip().splitlines()[-1])["pages"],
    )


def measure_end_to_end(config: Path, db_url: str, workers: int) -> Measured:
    def stored(_out: str) -> int:
        """Article pages fetched and stored (rows merged by deduplication still count)."""
        import sqlite3

        query = (
            "SELECT count(*) FROM fetches WHERE kind = 'article' AND status = 200 AND error IS NULL"
        )
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
            return int(connection.execute(query).fetchone()[0])

    return run_measured(
        "(c) newsmon crawl end to end into SQLite",
        [sys.executable, "-m", "pipeline", "--config", str(config), "crawl"],
        stored,
    )


def crawl_config(path: Path, db_url: str, entries: list[OutletEntry], workers: int) -> Path:
    text = config_toml(db_url, entries, user_agent="newsmon-bench").replace(
        "[crawl]\n",
        f"[crawl]\nconcurrency_per_outlet = 16\nextraction_workers = {workers}\n",
    )
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--outlets", type=int, default=4)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--skip-ceilings", action="store_true", help="only (c), e.g. 10k pages")
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="run (b) and (c) alternately this many times: the ratio of each pair, and the median",
    )  # fmt: skip
    args = parser.parse_args()
    pages = source_pages(load_sources(corpus_root()), args.pages)
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
        work = Path(tmp)
        port = args.port = free_port()
        entries = write_sites(pages, args.outlets, work / "sites", port)
        addresses = [f"127.0.0.{FIRST_ADDRESS + i}" for i in range(args.outlets)]
        nginx = Nginx(work / "sites", addresses, port)
        nginx.start()
        try:
            rows = run_all(args, work, entries, pages)
        finally:
            nginx.stop()
    report(rows, args)


def run_all(
    args: argparse.Namespace, work: Path, entries: list[OutletEntry], pages: list[SourcePage]
) -> list[Measured]:
    rows = []
    if not args.skip_ceilings:
        fetch_db = f"sqlite:///{work / 'fetch.db'}"
        rows.append(measure_fetch_ceiling(crawl_config(work / "a.toml", fetch_db, entries,
                                                       args.workers), fetch_db))  # fmt: skip
    files = [
        (file_of(work / "sites" / MAIN_TREE, address, page.path),
         f"http://{address}:{args.port}{page.path}")
        for address, page in _addressed(pages, args.outlets)
    ]  # fmt: skip
    for attempt in range(args.repeat):
        if not args.skip_ceilings:
            rows.append(measure_extraction_ceiling(files, args.workers, work))
        db = f"sqlite:///{work / f'crawl{attempt}.db'}"
        config = crawl_config(work / f"c{attempt}.toml", db, entries, args.workers)
        rows.append(measure_end_to_end(config, db, args.workers))
    return rows


def _addressed(pages: list[SourcePage], outlets: int) -> list[tuple[str, SourcePage]]:
    """Each page with the address of the outlet serving it (as :func:`write_sites` spreads them)."""
    return [(f"127.0.0.{FIRST_ADDRESS + n % outlets}", page) for n, page in enumerate(pages)]


def report(rows: list[Measured], args: argparse.Namespace) -> None:
    import scrapy
    import trafilatura

    lines = [
        f"Throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, Scrapy {scrapy.__version__}, "
        f"trafilatura {trafilatura.__version__}; {args.pages} pages on {args.outlets} outlets "
        f"(nginx); {args.workers} extraction workers.",
        "",
        "| measurement | pages | seconds | pages/s | CPU ms/page | of which main process "
        "| peak RSS MB, all processes | of which main process / largest child |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.name} | {r.pages} | {r.seconds:.1f} | {r.rate:.1f} | {r.cpu_ms_per_page:.1f} "
        f"| {r.main_cpu_ms_per_page:.1f} | {r.peak_rss_mb:.0f} "
        f"| {r.peak_main_mb:.0f} / {r.peak_child_mb:.0f} |"
        for r in rows
    ]
    ceilings = [r for r in rows if r.name.startswith("(b)")]
    crawls = [r for r in rows if r.name.startswith("(c)")]
    ratios = [c.rate / b.rate for b, c in zip(ceilings, crawls, strict=False)]
    if len(ratios) == 1:
        ratio = ratios[0]
        lines += ["", f"End to end reaches {ratio:.0%} of the extraction ceiling (target ≥ 80%)."]
    elif ratios:
        each = ", ".join(f"{r:.0%}" for r in ratios)
        lines += [
            "",
            f"(b) and (c) ran alternately {len(ratios)} times; (c) ÷ (b) of each pair: {each}; "
            f"median {statistics.median(ratios):.0%} (target ≥ 80%).",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.pages == 2000 else f"-{args.pages}"
    RESULTS.with_name(f"throughput{suffix}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
