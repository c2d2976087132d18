"""Turn a response body into text the way a browser would, before anything parses it.

Order (WHATWG "encoding sniffing"): byte-order mark, HTTP ``Content-Type`` charset, ``<meta>``
declaration in the first 4 KB, then detection. Labels map as browsers map them (``latin1`` and
``iso-8859-1`` mean windows-1252, ``shift_jis`` means cp932, ``euc-kr`` means cp949), via w3lib,
which implements the label table for Scrapy and imports nothing from it.
"""

from __future__ import annotations

import codecs
import logging

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

logger = logging.getLogger(__name__)

# WHATWG: the last resort for an undeclared, non-UTF-8 page in Western locales.
FALLBACK_ENCODING = "cp1252"
# charset-normalizer "chaos" (mess ratio) below which two guesses count as equally good.
_CHAOS_TIE = 0.01
# The WHATWG Encoding Standard's encodings, as Python codec names (https://encoding.spec.whatwg.org).
_WEB_ENCODINGS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8", "cp866", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6",
        "iso8859-7", "iso8859-8", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15",
        "iso8859-16", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "cp1250",
        "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
        "gbk", "gb18030", "big5hkscs", "euc-jp", "iso2022-jp", "cp932", "cp949",
        "utf-16-be", "utf-16-le",
    )
)  # fmt: skip
# A <meta> that declares UTF-16/32 was itself read as ASCII, so the page cannot be UTF-16/32:
# browsers then use UTF-8 (https://html.spec.whatwg.org/#prescan-a-byte-stream).
_WIDE_ENCODINGS = frozenset(
    {"utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be", "utf-32-le"}
)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body to ``str``; never raises, undecodable bytes become U+FFFD.

    Two deliberate departures from browsers: when a legacy charset is declared but the body is
    valid UTF-8 containing non-ASCII bytes, it is read as UTF-8; when UTF-8 is declared but no
    non-ASCII byte of the body is UTF-8, its encoding is detected. Servers that stamp a default
    ``charset=ISO-8859-1`` on UTF-8 pages are common, and valid multi-byte UTF-8 is very unlikely
    to be legacy-encoded text by accident.

    Args:
        body: the raw response body.
        content_type: the HTTP ``Content-Type`` header, if any.

    Returns:
        The decoded document, without a byte-order mark.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return to_unicode(body[len(bom) :], bom_encoding)
    encoding = declared_encoding(body, content_type)
    if encoding is None:
        encoding = detect_encoding(body)
    elif encoding != "utf-8" and _is_utf8(body, non_ascii=True):
        logger.debug("%s declared but the body is UTF-8; reading it as UTF-8", encoding)
        encoding = "utf-8"
    elif encoding == "utf-8" and not _is_utf8(body) and _no_utf8_sequence(body):
        encoding = detect_encoding(body)
        logger.debug("UTF-8 declared but no byte of the body is; reading it as %s", encoding)
    return to_unicode(body, encoding)


def declared_encoding(body: bytes, content_type: str | None = None) -> str | None:
    """The Python codec named by the ``Content-Type`` header, else by the page's ``<meta>``."""
    encoding = http_content_type_encoding(content_type)
    if encoding is None:
        encoding = html_body_declared_encoding(body)
        if encoding in _WIDE_ENCODINGS:
            encoding = "utf-8"
    if encoding is None:
        return None
    encoding = codecs.lookup(encoding).name
    # WHATWG reads a bare "utf-16" label without a BOM as little-endian.
    return "utf-16-le" if encoding == "utf-16" else encoding


def detect_encoding(body: bytes) -> str:
    """Guess the encoding of an undeclared body: UTF-8 if it decodes, else charset-normalizer.

    Guesses are limited to the encodings browsers support (no DOS or Mac Central European code
    pages). Many single-byte code pages decode a Western page equally well when its only
    non-ASCII characters are a few quotes and accents; browsers then use windows-1252, and so
    do we.
    """
    if _is_utf8(body):
        return "utf-8"
    guesses: list[tuple[float, str, list[str]]] = []
    for match in charset_normalizer.from_bytes(body):
        encoding = resolve_encoding(match.encoding)
        if encoding in _WEB_ENCODINGS:
            guesses.append((match.chaos, encoding, match.could_be_from_charset))
    if not guesses:
        return FALLBACK_ENCODING
    best_chaos, best, _ = guesses[0]
    for chaos, _, alternatives in guesses:
        if chaos <= best_chaos + _CHAOS_TIE and FALLBACK_ENCODING in alternatives:
            return FALLBACK_ENCODING
    logger.debug("undeclared encoding, guessed %s", best)
    return best


def _no_utf8_sequence(body: bytes) -> bool:
    """Whether none of ``body``'s non-ASCII bytes form a UTF-8 character: a legacy page (a
    Latin-1 or windows-1251 one) under a wrong UTF-8 label. The other departure from browsers:
    they would show it as U+FFFD; a page of mostly valid UTF-8 with a stray byte stays UTF-8."""
    text = body.decode("utf-8", "replace")
    return all(char == "\ufffd" for char in text if not char.isascii())


def _is_utf8(body: bytes, *, non_ascii: bool = False) -> bool:
    """Whether ``body`` is valid UTF-8 (and, with ``non_ascii``, not plain ASCII)."""
    if non_ascii and body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
