"""Regenerate ``pipeline/demo/data`` (the bundled demo outlets) from ``../shared/corpus``.

The demo shows three outlets covering the same six stories, so story grouping and cross-outlet
views have something to show. Pages are copied byte for byte (they are already gzip files), titles
are read from the pages, and the manifest has sorted keys: running this twice gives identical files.

Usage: python bench/make_demo_data.py [--corpus ../shared/corpus] [--out pipeline/demo/data]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
from pathlib import Path

from pipeline.demo.sitebuilder import guess_title

REPO = Path(__file__).resolve().parents[1]
BENCH = "extraction-bench"

# Six stories, each covered by all three outlets, as extraction-bench page id prefixes:
# (story, Harbor Gazette, Capital Ledger, Northern Wire). English news pages from November 2019.
STORIES = [
    ("feather duvet lung", "bd673bd7", "9eef8162", "a078b365"),
    ("South Dakota meth campaign", "776a1c04", "156770d6", "c13b9c0e"),
    ("water vapour on Europa", "686bb170", "14cc2a0c", "f344ca5f"),
    ("plague cases in China", "ea25dd7e", "ba4dfe2d", "8b194530"),
    ("Doobie Brothers reunion tour", "35b15891", "9cb8224b", "ac1bfdd4"),
    ("WeWork investigation", "06e5123e", "bc13ff87", "1ace8c85"),
]
OUTLETS = ["Harbor Gazette", "Capital Ledger", "Northern Wire"]
# Story i was published STORY_AGE[i] ago; each later outlet 40 minutes after the previous one.
STORY_AGE_MINUTES = [90, 300, 720, 1500, 2400, 3900]
OUTLET_LAG_MINUTES = 40
LICENSE_NOTE = (
    "The pages in pages/ are copied unchanged from the Article extraction benchmark\n"
    "(github.com/scrapinghub/article-extraction-benchmark, html/*.html.gz, via ../shared/corpus),\n"
    "distributed under the licence below. The pages are snapshots of third-party news sites that\n"
    "the benchmark publishes for research: they are here only to demonstrate and test newsmon\n"
    "offline, not to republish their text.\n\n"
)


def main() -> None:
    args = _arguments()
    corpus = args.corpus / BENCH
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    out: Path = args.out
    pages_dir = out / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    pages: list[list[dict[str, object]]] = [[] for _ in OUTLETS]
    wanted: set[str] = set()
    for story_index, (_story, *prefixes) in enumerate(STORIES):
        for outlet_index, prefix in enumerate(prefixes):
            page_id = _full_id(truth, prefix)
            target = pages_dir / f"{prefix}.html.gz"
            shutil.copyfile(corpus / "html" / f"{page_id}.html.gz", target)
            wanted.add(target.name)
            age = STORY_AGE_MINUTES[story_index] - outlet_index * OUTLET_LAG_MINUTES
            pages[outlet_index].append(_entry(page_id, truth[page_id]["url"], target, age))
    for stale in pages_dir.glob("*.html.gz"):
        if stale.name not in wanted:
            stale.unlink()
    outlets = [{"name": name, "pages": listed} for name, listed in zip(OUTLETS, pages, strict=True)]
    manifest = {"source": f"../shared/corpus/{BENCH}", "outlets": outlets}
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (out / "outlets.json").write_text(text, encoding="utf-8")
    licence = (corpus / "UPSTREAM-LICENSE").read_text(encoding="utf-8")
    (out / "LICENSE-extraction-bench").write_text(LICENSE_NOTE + licence, encoding="utf-8")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {len(wanted)} pages to {out} ({size / 1024:.0f} KiB in all)")


def _entry(page_id: str, url: str, stored: Path, age_minutes: int) -> dict[str, object]:
    html = gzip.decompress(stored.read_bytes()).decode("utf-8")
    return {
        "age_minutes": age_minutes,
        "corpus_id": page_id,
        "file": f"pages/{stored.name}",
        "original_url": url,
        "title": guess_title(html),
    }


def _full_id(truth: dict[str, object], prefix: str) -> str:
    matches = [page_id for page_id in truth if page_id.startswith(prefix)]
    if len(matches) != 1:
        raise SystemExit(f"page id prefix {prefix!r} matches {len(matches)} pages")
    return matches[0]


def _arguments() -> argparse.Namespace:
    default_corpus = Path(os.environ.get("NEWSMON_CORPUS", REPO.parent / "shared" / "corpus"))
    parser = argparse.ArgumentParser(description="Regenerate pipeline/demo/data from the corpus.")
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--out", type=Path, default=REPO / "pipeline" / "demo" / "data")
    return parser.parse_args()


if __name__ == "__main__":
    main()
