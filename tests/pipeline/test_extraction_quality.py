"""Extraction quality gates: mean F1 on extraction-bench and on a sample of wcxb-dev-articles.

Scored as in ``bench/extraction.py`` (``bench.scoring``, the extraction-bench method). The corpora
are read from ``$NEWSMON_CORPUS`` or ``../shared/corpus`` beside the repo; without them the tests
are skipped, except in CI (``CI=true``), where a missing corpus is a failure rather than a silent
pass. Both gates together take about 20 s with two processes.
"""

from __future__ import annotations

import os
from multiprocessing import Pool
from pathlib import Path

import pytest

from bench.scoring import BenchPage, Summary, load_corpus, score_page, summarize
from pipeline.extraction import ExtractionFailed, extract_article

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_ROOT = Path(os.environ.get("NEWSMON_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))
BENCH = CORPUS_ROOT / "extraction-bench"
WCXB = CORPUS_ROOT / "wcxb-dev-articles"

# Measured 0.9711 on 2026-11-30 (trafilatura 2.3.1, htmldate 1.11.0, readability-lxml 0.9), in
# the same run as trafilatura.extract() defaults 0.9525, include_comments=False 0.9598 and
# readability-lxml 0.9539. Raise it when extraction gets better; lower it only with a reason in
# the commit message.
F1_FLOOR = 0.969
# wcxb-dev-articles, every 4th page in id order (150 of 709, to keep the test short): measured
# 0.9372 on the same day (0.9436 on all 709 pages, against 0.9319 and 0.8972 for trafilatura
# include_comments=False and readability-lxml).
WCXB_SAMPLE_STEP = 4
WCXB_SAMPLE_SIZE = 150
WCXB_F1_FLOOR = 0.935


def _text(page: BenchPage) -> str:
    try:
        return extract_article(page.html, url=page.url).text
    except ExtractionFailed:
        return ""


def _score(pages: list[BenchPage]) -> Summary:
    with Pool(2) as pool:
        texts = pool.map(_text, pages, chunksize=4)
    return summarize(score_page(p.expected, t) for p, t in zip(pages, texts, strict=True))


def _require(corpus: Path) -> None:
    if not (corpus / "ground-truth.json").is_file():
        message = f"{corpus.name} corpus not found at {corpus} (set NEWSMON_CORPUS)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_extraction_bench_f1_stays_above_floor() -> None:
    _require(BENCH)
    summary = _score(list(load_corpus(BENCH)))

    assert summary.pages == 181
    assert summary.f1 >= F1_FLOOR, (
        f"F1 {summary.f1:.4f} < floor {F1_FLOOR} "
        f"(precision {summary.precision:.4f}, recall {summary.recall:.4f})"
    )


def test_wcxb_sample_f1_stays_above_floor() -> None:
    _require(WCXB)
    pages = list(load_corpus(WCXB))[::WCXB_SAMPLE_STEP][:WCXB_SAMPLE_SIZE]
    summary = _score(pages)

    assert summary.pages == WCXB_SAMPLE_SIZE
    assert summary.f1 >= WCXB_F1_FLOOR, (
        f"F1 {summary.f1:.4f} < floor {WCXB_F1_FLOOR} "
        f"(precision {summary.precision:.4f}, recall {summary.recall:.4f})"
    )
