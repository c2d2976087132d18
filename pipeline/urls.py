"""Article identity: one canonical form per URL, so tracking and cosmetic variants collapse.

courlan does the heavy lifting (case, default ports, dot segments, tracking parameters such as
``utm_*``, ``fbclid``, ``gclid``, ``ref``); we add fragment removal, a trailing-slash rule and a
user-configurable list of extra parameters, which courlan cannot take.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url
from w3lib.url import url_query_cleaner


def canonicalize_url(url: str, extra_tracking_params: Iterable[str] = ()) -> str:
    """Normalise ``url`` for identity: scheme/host case, default port, fragment, trailing slash,
    tracking parameters."""
    try:
        normalized = normalize_url(url.strip(), strict=False, trailing_slash=False)
    except ValueError:
        return url.strip()
    parts = urlsplit(normalized)
    normalized = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
    extra = list(extra_tracking_params)
    if extra and parts.query:
        normalized = url_query_cleaner(normalized, extra, remove=True, keep_fragments=False)
    return normalized


def absolute_url(base: str, href: str | None) -> str | None:
    """Resolve ``href`` against ``base``; None for empty, javascript:, mailto: and the like."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    joined = urljoin(base, href)
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_in_domains(host: str, domains: Iterable[str]) -> bool:
    """True when ``host`` equals one of ``domains`` or is a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)
