"""Extraction benchmark: newsmon vs plain trafilatura and readability-lxml, same pages, one run.

Usage (from the repo root, with the project installed: ``pip install -e .``)::

    python bench/extraction.py --corpus all
    python bench/extraction.py --corpus wcxb-dev-articles --limit 50 --workers 2

Prints a markdown table per corpus (mean precision, recall, F1 by the extraction-bench method,
and pages per second per process) and writes the same to ``bench/results/extraction.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from multiprocessing import Pool
from pathlib import Path

import lxml.html
import trafilatura
from readability import Document

from bench.scoring import BenchPage, Summary, load_corpus, score_page, summarize
from pipeline.extraction import ExtractionFailed, extract_article

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS_ROOT = REPO_ROOT.parent / "shared" / "corpus"
RESULTS_FILE = REPO_ROOT / "bench" / "results" / "extraction.md"
CORPORA = ("extraction-bench", "wcxb-dev-articles")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")


def newsmon_text(page: BenchPage) -> str:
    try:
        return extract_article(page.html, url=page.url).text
    except ExtractionFailed:
        return ""


def trafilatura_default(page: BenchPage) -> str:
    return trafilatura.extract(page.html) or ""


def trafilatura_no_comments(page: BenchPage) -> str:
    return trafilatura.extract(page.html, include_comments=False) or ""


def readability_text(page: BenchPage) -> str:
    """``Document(html).summary()`` as text, one line per block element."""
    try:
        summary = Document(page.html).summary(html_partial=True)
    except ValueError:  # readability.Unparseable
        return ""
    fragment = lxml.html.fragment_fromstring(summary, create_parent="div")
    for block in fragment.iter(*_BLOCK_TAGS):
        block.tail = "\n" + (block.tail or "")
    lines = (line.strip() for line in fragment.text_content().splitlines())
    return "\n".join(line for line in lines if line)


EXTRACTORS: dict[str, Callable[[BenchPage], str]] = {
    "newsmon `extract_article`": newsmon_text,
    "trafilatura `extract()` defaults": trafilatura_default,
    "trafilatura `include_comments=False`": trafilatura_no_comments,
    "readability-lxml `summary()`": readability_text,
}


@dataclass(frozen=True, slots=True)
class Row:
    """One extractor's result on one corpus."""

    name: str
    summary: Summary
    pages_per_second: float


_WARMED: set[str] = set()


def _timed(job: tuple[tuple[str, ...], BenchPage]) -> list[tuple[str, float]]:
    """Run each extractor on one page, one after the other; text and CPU seconds of each.

    Interleaving the extractors page by page puts them under the same conditions (a neighbour's
    load, CPU frequency), so their speed ratio holds even when absolute speeds drift. CPU time of
    this process, not wall time. The first call of each extractor in a worker is run twice and
    only the second is timed: lazy imports and caches (dateparser's locale data, compiled
    XPaths) would otherwise be charged to whichever extractor happens to run first.
    """
    names, page = job
    results = []
    for name in names:
        if name not in _WARMED:
            EXTRACTORS[name](page)
            _WARMED.add(name)
        start = time.process_time()
        text = EXTRACTORS[name](page)
        results.append((text, time.process_time() - start))
    return results


def run_corpus(
    pages: list[BenchPage], workers: int, names: Iterable[str] = EXTRACTORS
) -> list[Row]:
    """Score extractors on ``pages``; speed is per process (CPU seconds summed)."""
    names = tuple(names)
    with Pool(workers) as pool:
        per_page = pool.map(_timed, [(names, page) for page in pages], chunksize=4)
    rows = []
    for index, name in enumerate(names):
        results = [page_results[index] for page_results in per_page]
        scores = (score_page(p.expected, text) for p, (text, _) in zip(pages, results, strict=True))
        seconds = sum(elapsed for _, elapsed in results)
        rows.append(Row(name, summarize(scores), len(pages) / seconds if seconds else 0.0))
    return rows


def markdown_table(corpus: str, rows: Iterable[Row]) -> str:
    rows = list(rows)
    pages = rows[0].summary.pages if rows else 0
    lines = [
        f"### {corpus} ({pages} pages)",
        "",
        "| extractor | precision | recall | F1 | pages/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        s = row.summary
        lines.append(
            f"| {row.name} | {s.precision:.4f} | {s.recall:.4f} | {s.f1:.4f} "
            f"| {row.pages_per_second:.1f} |"
        )
    return "\n".join(lines)


def environment_line() -> str:
    packages = ("trafilatura", "readability-lxml", "lxml", "htmldate")
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    today = datetime.now(UTC).date().isoformat()
    return f"Run {today} on Python {platform.python_version()}: {versions}."


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="extraction-bench")
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each corpus")
    parser.add_argument(
        "--corpus-root",
        type=Path,
        default=Path(os.environ.get("NEWSMON_CORPUS", DEFAULT_CORPUS_ROOT)),
        help="folder holding the corpora (default: $NEWSMON_CORPUS or ../shared/corpus)",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="markdown file")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only newsmon and trafilatura defaults (the speed reference), for quick checks",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # trafilatura logs a warning for every page it gives up on; the table says enough.
    logging.basicConfig(level=logging.ERROR)
    corpora = CORPORA if args.corpus == "all" else (args.corpus,)
    sections = [environment_line()]
    for corpus in corpora:
        root = args.corpus_root / corpus
        if not (root / "ground-truth.json").is_file():
            print(f"corpus not found: {root}", file=sys.stderr)
            return 2
        pages = list(load_corpus(root, args.limit))
        names = list(EXTRACTORS)[:2] if args.quick else list(EXTRACTORS)
        sections.append(markdown_table(corpus, run_corpus(pages, args.workers, names)))
        print(sections[-1] + "\n", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    print(sections[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
