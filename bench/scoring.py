"""Article-body scoring of the extraction-bench method, shared by the benchmark and the F1 gate.

Word tokens (``\\w+``) become 4-token shingles; true/false positives and false negatives are counted
over shingle multisets and normalised per page so long pages do not weigh more. Precision is
averaged over pages with a non-empty prediction, recall over all pages, and F1 is the harmonic
mean of those two averages (scrapinghub/article-extraction-benchmark, described in the corpus
README).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

SHINGLE_SIZE = 4
_TOKEN_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class PageScore:
    """Shingle counts for one page, each a share of the page's total (tp + fp + fn == 1)."""

    tp: float
    fp: float
    fn: float

    @property
    def has_prediction(self) -> bool:
        return self.tp + self.fp > 0

    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


@dataclass(frozen=True, slots=True)
class Summary:
    """Corpus-level figures: precision and recall averages and their harmonic mean."""

    precision: float
    recall: float
    f1: float
    pages: int


@dataclass(frozen=True, slots=True)
class BenchPage:
    """One corpus page: its id, original URL, HTML and the ground-truth article body."""

    page_id: str
    url: str
    html: str
    expected: str


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Multiset of ``size``-token shingles; a text shorter than ``size`` is one short shingle."""
    tokens = tokenize(text)
    if len(tokens) <= size:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def score_page(expected: str, predicted: str) -> PageScore:
    """Compare one prediction to its ground truth."""
    truth, pred = shingles(expected), shingles(predicted)
    tp = sum((truth & pred).values())
    fp = sum((pred - truth).values())
    fn = sum((truth - pred).values())
    total = tp + fp + fn
    if total == 0:
        return PageScore(0.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def summarize(scores: Iterable[PageScore]) -> Summary:
    """Average page scores the way extraction-bench does."""
    scores = list(scores)
    precisions = [s.precision for s in scores if s.has_prediction]
    recalls = [s.recall for s in scores if s.tp + s.fn > 0]
    precision = fmean(precisions) if precisions else 0.0
    recall = fmean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Summary(precision, recall, f1, len(scores))


def load_corpus(root: Path, limit: int | None = None) -> Iterator[BenchPage]:
    """Yield the pages of one corpus folder (``ground-truth.json`` + ``html/<id>.html.gz``)."""
    truth = json.loads((root / "ground-truth.json").read_text("utf-8"))
    for index, (page_id, item) in enumerate(sorted(truth.items())):
        if limit is not None and index >= limit:
            return
        raw = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        yield BenchPage(page_id, item.get("url", ""), raw.decode("utf-8"), item["articleBody"])
