"""Pure extraction: response body (+ URL) -> ``Article``, with no Scrapy or SQLAlchemy imports.

``extract_article`` (``article.py``) checks the body is HTML, decodes it (``decode_html``), parses
it once and hands it to the generic extractor, with the outlet's ``SiteRules`` when it has some.
``BoilerplateLines`` is the per-outlet filter of repeated lines, kept by the caller.

Names are imported on first use: the crawler process needs the light modules (repeated lines,
errors) but not trafilatura and lxml, which only its extraction workers load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.extraction.article import extract_article
    from pipeline.extraction.boilerplate import BoilerplateLines
    from pipeline.extraction.charset import decode_html
    from pipeline.extraction.errors import ExtractionFailed
    from pipeline.extraction.generic import MIN_WORDS
    from pipeline.extraction.sites import SiteRules

__all__ = [
    "MIN_WORDS",
    "BoilerplateLines",
    "ExtractionFailed",
    "SiteRules",
    "decode_html",
    "extract_article",
]

_HOMES = {
    "MIN_WORDS": "generic",
    "BoilerplateLines": "boilerplate",
    "ExtractionFailed": "errors",
    "SiteRules": "sites",
    "decode_html": "charset",
    "extract_article": "article",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
