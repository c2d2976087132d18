"""Data flows one way: spiders -> pipeline -> storage; storage and extraction stay independent."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("storage"), ids=str)
def test_storage_imports_nothing_of_ours_but_itself(path: Path) -> None:
    forbidden = {
        n for n in imports_of(path) if n.split(".")[0] in {"pipeline", "spiders", "scrapy"}
    }
    assert not forbidden


@pytest.mark.parametrize(
    "path", [*modules("pipeline/extraction"), ROOT / "pipeline/items.py"], ids=str
)
def test_extraction_is_pure(path: Path) -> None:
    roots = {n.split(".")[0] for n in imports_of(path)}
    assert not roots & {"scrapy", "sqlalchemy", "spiders", "storage", "twisted"}


@pytest.mark.parametrize(
    "path", [p for p in ROOT.glob("*/**/*.py") if ".venv" not in p.parts], ids=str
)
def test_nothing_imports_the_cli(path: Path) -> None:
    if "cli" in path.parts or path.name == "__main__.py" or "tests" in path.parts:
        return
    assert "pipeline.cli" not in imports_of(path)


def loaded_after(statement: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` a fresh interpreter has loaded after running ``statement``."""
    import subprocess
    import sys

    code = f"import sys; {statement}; print(sorted(m for m in {names!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return list(ast.literal_eval(result.stdout.strip()))


def test_the_crawler_process_leaves_trafilatura_to_the_extraction_workers() -> None:
    """trafilatura, readability and their kin load in the workers only, and so do numpy and
    datasketch for the texts' features: the crawler process starts faster and stays smaller."""
    crawler = "import pipeline.crawl, pipeline.pipelines, pipeline.postprocess, spiders.news"
    heavy = ("trafilatura", "readability", "justext", "numpy", "datasketch")
    assert loaded_after(crawler, heavy) == []


def test_extraction_workers_load_neither_storage_nor_scipy() -> None:
    """Every worker holds what it preloads: SQLAlchemy, or scipy through datasketch, would add
    20 to 50 MB to each of them."""
    worker = "import pipeline.workers as w; [__import__(m) for m in w.EXTRACTION_MODULES]"
    assert loaded_after(worker, ("sqlalchemy", "scipy", "datasketch", "scrapy")) == []


def test_post_processing_loads_neither_datasketch_nor_scipy_integrate() -> None:
    """Post-processing runs after every crawl, on one core: datasketch's LSH module would load
    scipy.integrate (a third of a second) for one integral that pipeline.dedupe computes."""
    post = "import pipeline.autostories, pipeline.syndication, pipeline.dedupe, pipeline.clusters"
    assert loaded_after(post, ("datasketch", "scipy.integrate", "scipy.optimize")) == []


def test_a_crawl_freezes_what_it_holds_from_the_start() -> None:
    """Objects alive when the crawl starts are out of the collector's way, and the young
    generation is large enough for a crawl's many short-lived objects."""
    statement = (
        "import gc; from pipeline.crawl import _settle_heap; _settle_heap(); "
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count(); "
        "assert gc.get_threshold()[0] >= 10_000"
    )
    assert loaded_after(statement, ()) == []
