"""Article identity: one canonical form per URL, so tracking and cosmetic variants collapse.

courlan does the heavy lifting (case, default ports, dot segments, tracking parameters such as
``utm_*``, ``fbclid``, ``gclid``, ``mc_*``, ``ref``); we add fragment removal, a trailing-slash
rule, a few news-site trackers courlan keeps, a user-configurable list of extra parameters, and
the mapping of AMP and mobile variants to the article they render (:func:`article_url`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import normalize_url
from w3lib.url import url_query_cleaner

# Trackers seen on news links that courlan keeps (HubSpot, Adobe, Guardian, NYT, MSN, ...).
NEWS_TRACKERS = ("_hsenc", "_hsmi", "cmpid", "CMP", "ocid", "smid", "sr_share", "ito", "wt_mc")

# AMP and mobile variants: a first host label, a path segment, a suffix, a query parameter.
_MOBILE_LABELS = frozenset({"m", "mobile", "amp"})
_AMP_SUFFIX = re.compile(r"\.amp(\.html?)?$", re.IGNORECASE)
_AMP_PARAMS = {"amp": None, "outputtype": "amp", "output": "amp", "_amp": None}


def canonicalize_url(url: str, extra_tracking_params: Iterable[str] = ()) -> str:
    """Normalise ``url`` for identity: scheme/host case, default port, fragment, trailing slash,
    tracking parameters (courlan's, :data:`NEWS_TRACKERS` and ``extra_tracking_params``)."""
    try:
        normalized = normalize_url(url.strip(), strict=False, trailing_slash=False)
    except ValueError:
        return url.strip()
    parts = urlsplit(normalized)
    normalized = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
    if parts.query:
        drop = [*NEWS_TRACKERS, *extra_tracking_params]
        normalized = url_query_cleaner(normalized, drop, remove=True, keep_fragments=False)
    return normalized


def article_url(
    url: str, main_hosts: Iterable[str] = (), extra_tracking_params: Iterable[str] = ()
) -> str:
    """The canonical URL of the article an AMP or mobile variant renders.

    Handles ``amp.``/``m.``/``mobile.`` hosts (also inside, as in ``en.m.example.org``), an
    ``/amp/`` path segment, ``.amp`` / ``.amp.html`` suffixes and ``amp``/``outputType=amp``
    query parameters. The result is a guess: callers fetch it, and fall back to the variant
    itself when the guess does not answer.

    Args:
        url: any article URL.
        main_hosts: the outlet's hosts (e.g. those of its feeds); a mobile host maps to the one
            of them it belongs to, so ``m.example.com`` becomes ``www.example.com`` when that is
            where the outlet lives.
        extra_tracking_params: as for :func:`canonicalize_url`.
    """
    canonical = canonicalize_url(url, extra_tracking_params)
    parts = urlsplit(canonical)
    host = _desktop_host(parts.hostname or "", [h.lower() for h in main_hosts])
    netloc = host + (f":{parts.port}" if parts.port else "") if host else parts.netloc
    path = _desktop_path(parts.path)
    query = _without_amp_params(parts.query)
    mapped = urlunsplit((parts.scheme, netloc, path or "/", query, ""))
    return mapped if mapped == canonical else canonicalize_url(mapped, extra_tracking_params)


def is_variant(url: str, main_hosts: Iterable[str] = ()) -> bool:
    """True when ``url`` looks like an AMP or mobile variant of another article URL."""
    return article_url(url, main_hosts) != canonicalize_url(url)


def _desktop_host(host: str, main_hosts: list[str]) -> str:
    labels = host.split(".")
    kept = [label for label in labels[:-1] if label not in _MOBILE_LABELS] + labels[-1:]
    if len(kept) == len(labels):
        return host
    base = ".".join(kept)
    for main in main_hosts:
        if main == base or main == "www." + base:
            return main
    return base if len(kept) >= 2 else host  # never map m.com to "com"


def _desktop_path(path: str) -> str:
    segments = path.split("/")
    kept = [s for s in segments if s.lower() != "amp"]
    if kept and kept[-1]:
        kept[-1] = _AMP_SUFFIX.sub(lambda m: m.group(1) or "", kept[-1])
    joined = "/".join(kept)
    return joined if joined.startswith("/") else "/" + joined


def _without_amp_params(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_amp_param(k, v)]
    return query if len(kept) == len(pairs) else urlencode(kept)


def _is_amp_param(key: str, value: str) -> bool:
    key = key.lower()
    if key not in _AMP_PARAMS:
        return False
    wanted = _AMP_PARAMS[key]
    return wanted is None or value.lower() == wanted


def absolute_url(base: str, href: str | None) -> str | None:
    """Resolve ``href`` against ``base``; None for empty, javascript:, mailto: and the like,
    and for a malformed URL (``http://[::1``, ``http://host:80x/``), so that one bad link never
    costs a whole listing."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        joined = urljoin(base, href)
        parts = urlsplit(joined)
        _ = parts.port  # a port that is no number, or out of range, raises here
    except ValueError:
        return None
    return joined if parts.scheme in ("http", "https") and parts.hostname else None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_in_domains(host: str, domains: Iterable[str]) -> bool:
    """True when ``host`` equals one of ``domains`` or is a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)
