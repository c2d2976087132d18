"""The bundled demo outlets and the ``newsmon.toml`` that points at them.

Three outlets covering the same six stories, built from real pages shipped as package data (see
``data/LICENSE-extraction-bench``), so ``newsmon demo`` works offline from an installed wheel.
Publication dates are set relative to now, so the demo articles are never stale.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

from pipeline.demo.server import OutletServer, Site
from pipeline.demo.sitebuilder import SiteOptions, SourcePage, build_site, discovery_urls

MANIFEST = "outlets.json"
DEMO_USER_AGENT = "newsmon-demo (+https://example.org/bot)"

# What each demo outlet publishes: RSS only; Atom + news sitemap; a section page + a sitemap.
DEMO_OPTIONS: dict[str, SiteOptions] = {
    "Harbor Gazette": SiteOptions(rss=True, disallow=("/login",)),
    "Capital Ledger": SiteOptions(atom=True, news_sitemap=True, disallow=("/login",)),
    "Northern Wire": SiteOptions(plain_sitemap=True, sections=("news",), disallow=("/login",)),
}


@dataclass(frozen=True)
class OutletEntry:
    """One ``[[outlets]]`` table of ``newsmon.toml``."""

    name: str
    feeds: list[str]
    sitemaps: list[str]
    sections: list[str]


def demo_sites(address_base: int = 2, now: datetime | None = None) -> list[Site]:
    """The demo outlets on ``127.0.0.<address_base>``, ``.<address_base + 1>``, ...

    Args:
        address_base: last octet of the first outlet's address.
        now: the moment publication ages count back from (default: now, to the minute).

    Returns:
        One Site per outlet, in manifest order, ready for :class:`OutletServer`.
    """
    now = now or datetime.now(UTC).replace(second=0, microsecond=0)
    manifest = _manifest()
    sites = []
    for offset, outlet in enumerate(manifest["outlets"]):
        name = outlet["name"]
        pages = [_source_page(entry, now) for entry in outlet["pages"]]
        address = f"127.0.0.{address_base + offset}"
        sites.append(build_site(name, address, pages, DEMO_OPTIONS[name]))
    return sites


def demo_config_toml(server: OutletServer, db_url: str) -> str:
    """A ``newsmon.toml`` crawling the demo outlets that ``server`` (started) is serving."""
    entries = [
        outlet_entry(site.name, server.base_url(site.name), DEMO_OPTIONS[site.name])
        for site in server.sites
        if site.name in DEMO_OPTIONS
    ]
    return config_toml(db_url, entries, user_agent=DEMO_USER_AGENT)


def outlet_entry(name: str, base_url: str, options: SiteOptions) -> OutletEntry:
    found = discovery_urls(base_url, options)
    return OutletEntry(name, found.feeds, found.sitemaps, found.sections)


def config_toml(db_url: str, outlets: list[OutletEntry], *, user_agent: str) -> str:
    """Render a ``newsmon.toml`` for local outlets (private addresses allowed, no delay)."""
    lines = [
        "# Generated for local outlets on loopback; see pipeline/demo.",
        "[database]",
        f"url = {_toml_str(db_url)}",
        "",
        "[crawl]",
        f"user_agent = {_toml_str(user_agent)}",
        "obey_robots = true",
        "allow_private_addresses = true",
        'delay = "0s"',
    ]
    for outlet in outlets:
        lines += [
            "",
            "[[outlets]]",
            f"name = {_toml_str(outlet.name)}",
            f"feeds = {_toml_list(outlet.feeds)}",
            f"sitemaps = {_toml_list(outlet.sitemaps)}",
            f"sections = {_toml_list(outlet.sections)}",
        ]
    return "\n".join(lines) + "\n"


def _manifest() -> dict[str, Any]:
    text = files("pipeline.demo").joinpath("data", MANIFEST).read_text(encoding="utf-8")
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def _source_page(entry: dict[str, Any], now: datetime) -> SourcePage:
    raw = files("pipeline.demo").joinpath("data", *entry["file"].split("/")).read_bytes()
    return SourcePage(
        html=gzip.decompress(raw).decode("utf-8"),
        original_url=entry["original_url"],
        title=entry["title"],
        published=now - timedelta(minutes=entry["age_minutes"]),
    )


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
    return json.dumps(value)


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"
