"""``extract_article``: a response body (+ URL) -> ``Article``.

Checks the body is HTML, decodes it (``decode_html``), parses it once and hands it to the generic
extractor, with the outlet's ``SiteRules`` when it has some.
"""

from __future__ import annotations

import codecs
import re

from trafilatura.utils import load_html

from pipeline.extraction.charset import decode_html
from pipeline.extraction.errors import ExtractionFailed
from pipeline.extraction.generic import extract_generic
from pipeline.extraction.sites import SiteRules
from pipeline.items import Article

# Media types that are HTML, and the vague ones servers send for anything (sniffed instead).
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFFED_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
# File signatures (https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern and kin).
_BINARY_SIGNATURES = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")
# UTF-16 and UTF-32 byte-order marks (UTF-32-LE's starts with UTF-16-LE's).
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
_MARKUP_RE = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|div|p|article|main|section|span|br)[\s/>]",
    re.IGNORECASE,
)
# How far into the page to look for markup (comments and whitespace can come first).
_SNIFF_CHARS = 65536


def extract_article(
    body: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    rules: SiteRules | None = None,
) -> Article:
    """Extract the article from an HTML page.

    Args:
        body: the response body; bytes are decoded with ``decode_html``.
        url: the page URL after redirects; relative canonical URLs are resolved against it.
        content_type: the HTTP ``Content-Type`` header, for the media type and charset.
        rules: the outlet's selectors (``SiteRules.from_mapping``), or None for the generic rules.

    Returns:
        The article: title, text (one paragraph a line), authors, timestamps and metadata.

    Raises:
        ExtractionFailed: the body is not HTML, or holds no article of at least ``MIN_WORDS``.
    """
    _check_media_type(content_type)
    if isinstance(body, bytes):
        if _looks_binary(body):
            raise ExtractionFailed("not HTML (binary data)")
        body = decode_html(body, content_type)
    if not body.strip():
        raise ExtractionFailed("empty page")
    if not _MARKUP_RE.search(body, 0, _SNIFF_CHARS):
        raise ExtractionFailed("not HTML (no markup)")
    tree = load_html(body)
    if tree is None:
        raise ExtractionFailed("not HTML (unparseable)")
    return extract_generic(tree, url, rules)


def _looks_binary(body: bytes) -> bool:
    """A known file signature, or NUL bytes early on in a body that is not UTF-16/32."""
    if body.lstrip().startswith(_BINARY_SIGNATURES):
        return True
    return b"\x00" in body[:1024] and not body.startswith(_WIDE_BOMS)


def _check_media_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in _HTML_TYPES and media_type not in _SNIFFED_TYPES:
        raise ExtractionFailed(f"not HTML ({media_type})")
