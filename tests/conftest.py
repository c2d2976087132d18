"""Shared fixtures: the local test outlets (``tests/outlets.py``), served once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.outlets import Scenario


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """The shared corpus root; skipped when absent, except on CI (``CI=true``), where that fails."""
    from tests.outlets import CORPUS_ENV, corpus_root  # imported here: most tests never need it

    root = corpus_root()
    if root is None:
        reason = (
            f"shared corpus not found: set {CORPUS_ENV} or check out ../shared/corpus "
            "(needs extraction-bench/ground-truth.json)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return root


@pytest.fixture(scope="session")
def local_outlets(shared_corpus: Path) -> Iterator[Scenario]:
    """Outlets A-E on 127.0.0.2-6 (one port) and the manifest of what a crawl must find.

    The server and its request log are shared by the whole session: to assert that something was
    never requested, look only at ``server.requests`` entries newer than your crawl's start.
    """
    from tests.outlets import start_scenario

    scenario = start_scenario(shared_corpus)
    try:
        yield scenario
    finally:
        scenario.server.stop()
