"""The user's ``newsmon.toml``, parsed and validated once into typed, frozen objects.

Every problem is reported as a :class:`ConfigError` that names the file, the key and what is wrong,
so the CLI can print one clear line instead of a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from storage.query import QuerySyntaxError, parse_query

DEFAULT_CONFIG_NAME = "newsmon.toml"
DEFAULT_SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=3), timedelta(minutes=15)),
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=3)),
    (timedelta(days=30), timedelta(days=3)),
    (timedelta(days=360), timedelta(days=30)),
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

T = TypeVar("T")


class ConfigError(Exception):
    """A user error in the configuration file (exit status 2)."""

    def __init__(self, path: Path | str, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"`` or ``"1w"``; raise ValueError otherwise."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("empty duration")
    position = 0
    seconds = 0.0
    for match in _DURATION_PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise ValueError(f"cannot parse duration {text!r} (use e.g. 30s, 15m, 2h, 1d, 1h30m)")
    return timedelta(seconds=seconds)


# An outlet's domain: letters (any script), digits, dots and hyphens; no scheme, port or path.
_HOST_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)*")


@dataclass(frozen=True, slots=True)
class CrawlConfig:
    """How politely and how often outlets are crawled."""

    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    obey_robots: bool = True
    allow_private_addresses: bool = False
    interval: timedelta = timedelta(minutes=30)
    delay: timedelta = timedelta(seconds=1)
    timeout: timedelta = timedelta(seconds=30)
    retries: int = 2
    retry_backoff: timedelta = timedelta(seconds=2)
    retry_after_cap: timedelta = timedelta(seconds=60)
    max_page_size: int = 5 * 1024 * 1024
    concurrency_per_outlet: int = 2
    max_age: timedelta = timedelta(days=30)
    max_articles_per_outlet: int = 0
    extraction_workers: int = 0
    extraction_timeout: timedelta = timedelta(minutes=2)
    repeated_lines: bool = True


@dataclass(frozen=True, slots=True)
class VersionsConfig:
    """Age-based recheck schedule: (max article age, recheck every) pairs, ascending by age.

    ``raw_html_retention``: raw HTML of versions older than this is dropped by maintenance
    (0 keeps it forever); the extracted text is always kept.
    """

    schedule: tuple[tuple[timedelta, timedelta], ...] = DEFAULT_SCHEDULE
    raw_html_retention: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The background scheduler (``newsmon run``)."""

    crawl_time_limit: timedelta = timedelta(minutes=30)
    grace_period: timedelta = timedelta(seconds=30)
    jitter: timedelta = timedelta(seconds=60)
    recheck_interval: timedelta = timedelta(minutes=5)
    maintenance_interval: timedelta = timedelta(hours=6)
    misfire_grace: timedelta = timedelta(minutes=10)
    log_file: str = ""
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 5


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """Duplicate detection and story grouping."""

    tracking_params: tuple[str, ...] = ()
    syndication_threshold: float = 0.5
    story_threshold: float = 0.25
    story_window: timedelta = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class OutletConfig:
    """One news outlet and where its articles are discovered."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    interval: timedelta | None = None
    delay: timedelta | None = None
    extract: ExtractRules | None = None
    robots_sitemaps: bool | None = None  # None: only when no feed or sitemap is configured

    @property
    def reads_robots_sitemaps(self) -> bool:
        """Whether the sitemaps named in the outlet's robots.txt (``Sitemap:``) are read."""
        if self.robots_sitemaps is not None:
            return self.robots_sitemaps
        return not self.feeds and not self.sitemaps

    @property
    def start_urls(self) -> tuple[str, ...]:
        return self.feeds + self.sitemaps + self.sections + self.articles

    def owns_host(self, host: str | None) -> bool:
        """True when ``host`` is one of the outlet's domains or a subdomain of one."""
        if not host:
            return False
        host = host.lower().rstrip(".")
        return any(host == domain or host.endswith("." + domain) for domain in self.domains)


@dataclass(frozen=True, slots=True)
class ExtractRules:
    """An outlet's ``[outlets.extract]`` selectors (CSS, or XPath when they start with ``/``),
    kept as text: extraction workers compile them (compiled selectors cannot be pickled)."""

    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()

    def as_mapping(self) -> dict[str, list[str]]:
        return {"body": list(self.body), "title": list(self.title), "drop": list(self.drop)}


@dataclass(frozen=True, slots=True)
class StoryConfig:
    """A story the user follows, matched by a search query."""

    name: str
    query: str
    outlets: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, as read from ``path``."""

    path: Path
    database_url: str | None = None
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    versions: VersionsConfig = field(default_factory=VersionsConfig)
    run: RunConfig = field(default_factory=RunConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    outlets: tuple[OutletConfig, ...] = ()
    stories: tuple[StoryConfig, ...] = ()

    def outlet(self, name: str) -> OutletConfig:
        for outlet in self.outlets:
            if outlet.name.casefold() == name.casefold():
                return outlet
        known = ", ".join(o.name for o in self.outlets) or "none configured"
        raise ConfigError(self.path, "outlets", f"no outlet named {name!r} (known: {known})")

    def default_database_url(self) -> str:
        """``sqlite:///newsmon.db`` next to the config file."""
        return f"sqlite:///{(self.path.parent / 'newsmon.db').resolve()}"


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config``, else ``$NEWSMON_CONFIG``, else ``./newsmon.toml``."""
    chosen = explicit or os.environ.get("NEWSMON_CONFIG") or DEFAULT_CONFIG_NAME
    return Path(chosen).expanduser()


def load_config(path: Path | str, *, missing_ok: bool = False) -> Config:
    """Read and validate ``path``; with ``missing_ok`` a missing file gives the defaults."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return Config(path=path)
        raise ConfigError(path, None, "file not found (create it or pass --config)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read file: {exc}") from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}") from None
    return parse_config(data, path)


def parse_config(data: Mapping[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document."""
    reader = _Reader(path)
    sections = {"database", "crawl", "versions", "run", "dedupe", "outlets", "stories"}
    reader.only_keys(data, "", sections)
    database = reader.table(data, "database")
    reader.only_keys(database, "database", {"url"})
    database_url = reader.optional(database, "database", "url", str)
    if database_url is not None:
        # here, not at the top: the extraction workers import this module, never SQLAlchemy
        from storage.db import DatabaseUrlError, checked_url

        try:
            checked_url(database_url)
        except DatabaseUrlError as exc:
            raise ConfigError(path, "database.url", str(exc)) from None
    outlets = _parse_outlets(reader, data.get("outlets", []))
    return Config(
        path=path,
        database_url=database_url,
        crawl=_parse_flat(reader, reader.table(data, "crawl"), "crawl", CrawlConfig),
        versions=_parse_versions(reader, reader.table(data, "versions")),
        run=_parse_flat(reader, reader.table(data, "run"), "run", RunConfig),
        dedupe=_parse_flat(reader, reader.table(data, "dedupe"), "dedupe", DedupeConfig),
        outlets=outlets,
        stories=_parse_stories(reader, data.get("stories", []), outlets),
    )


def _story_time(reader: _Reader, row: Mapping[str, Any], prefix: str, name: str) -> str | None:
    """A story's ``since``/``until``: a TOML date or date-time, or an ISO 8601 string."""
    if name not in row:
        return None
    value = row[name]
    key = f"{prefix}.{name}"
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if not isinstance(value, str):
        raise ConfigError(reader.path, key, f"expected a date, got {_kind(value)}")
    text = value.strip()
    try:
        _as_datetime(text)
    except ValueError:
        raise ConfigError(
            reader.path, key, f"not a date: {text!r} (use e.g. 2023-11-01 or 2023-11-01T12:00Z)"
        ) from None
    return text


def _as_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed.replace(tzinfo=None)


# Keys whose zero would stop newsmon from working, not switch a limit off.
_MUST_BE_POSITIVE = {
    "crawl.concurrency_per_outlet": "must be at least 1 (0 would never send a request)",
    "crawl.timeout": "must be more than 0s",
    "crawl.extraction_timeout": "must be more than 0s",
    "crawl.max_page_size": "must be at least 1 byte",
    "crawl.interval": "must be more than 0s",
    "run.recheck_interval": "must be more than 0s",
    "run.maintenance_interval": "must be more than 0s",
    "run.crawl_time_limit": "must be more than 0s",
    "dedupe.story_window": "must be more than 0s",
}


def _parse_flat(reader: _Reader, table: Mapping[str, Any], section: str, cls: type[T]) -> T:
    """A section of scalar keys, typed after the defaults of the dataclass ``cls``."""
    defaults = cls()
    names = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    reader.only_keys(table, section, names)
    values: dict[str, Any] = {}
    for name in names & set(table):
        key = f"{section}.{name}"
        values[name] = _typed_value(reader, getattr(defaults, name), name, key, table[name])
        if key in _MUST_BE_POSITIVE and not values[name]:
            raise ConfigError(reader.path, key, _MUST_BE_POSITIVE[key])
    return cls(**values)


def _typed_value(reader: _Reader, default: Any, name: str, key: str, value: Any) -> Any:
    """``value`` read as the type of the key's ``default``."""
    if isinstance(default, timedelta):
        return reader.duration(value, key)
    if isinstance(default, bool):
        return reader.typed(value, key, bool)
    if isinstance(default, int):
        return reader.non_negative_int(value, key)
    if isinstance(default, float):
        return reader.fraction(value, key)
    if isinstance(default, tuple):
        return reader.str_list(value, key)
    if name.endswith("file"):
        return reader.typed(value, key, str).strip()
    return reader.non_empty_str(value, key)


def _parse_versions(reader: _Reader, table: Mapping[str, Any]) -> VersionsConfig:
    reader.only_keys(table, "versions", {"schedule", "raw_html_retention"})
    retention = timedelta(0)
    if "raw_html_retention" in table:
        retention = reader.duration(table["raw_html_retention"], "versions.raw_html_retention")
    if "schedule" not in table:
        return VersionsConfig(raw_html_retention=retention)
    rows = reader.typed(table["schedule"], "versions.schedule", list)
    schedule: list[tuple[timedelta, timedelta]] = []
    for index, row in enumerate(rows):
        key = f"versions.schedule[{index}]"
        if not isinstance(row, list) or len(row) != 2:
            raise ConfigError(reader.path, key, 'expected a pair like ["3h", "15m"]')
        age = reader.duration(row[0], key)
        every = reader.duration(row[1], key)
        if every <= timedelta(0):
            raise ConfigError(reader.path, key, "the recheck interval must be positive")
        if schedule and age <= schedule[-1][0]:
            raise ConfigError(reader.path, key, "ages must increase from one row to the next")
        schedule.append((age, every))
    return VersionsConfig(schedule=tuple(schedule), raw_html_retention=retention)


def _parse_outlets(reader: _Reader, value: Any) -> tuple[OutletConfig, ...]:
    rows = reader.typed(value, "outlets", list)
    seen: set[str] = set()
    outlets: list[OutletConfig] = []
    allowed = {
        "name", "feeds", "sitemaps", "sections", "articles", "domains", "interval", "delay",
        "extract", "robots_sitemaps",
    }  # fmt: skip
    for index, row in enumerate(rows):
        key = f"outlets[{index}]"
        row = reader.typed(row, key, dict)
        reader.only_keys(row, key, allowed)
        name = reader.non_empty_str(row.get("name"), f"{key}.name")
        key = f"outlets[{index}] ({name})"
        if name.casefold() in seen:
            raise ConfigError(reader.path, f"{key}.name", f"duplicate outlet name {name!r}")
        seen.add(name.casefold())
        urls = {
            kind: reader.urls(row.get(kind, []), f"{key}.{kind}")
            for kind in ("feeds", "sitemaps", "sections", "articles")
        }
        if not any(urls.values()):
            raise ConfigError(
                reader.path,
                key,
                "outlet has no URL: give at least one of feeds, sitemaps, sections",
            )
        domains = tuple(
            d.lower().strip().lstrip(".")
            for d in reader.str_list(row.get("domains", []), f"{key}.domains")
        )
        for index, domain in enumerate(domains):
            if not _HOST_NAME.fullmatch(domain):
                problem = f"a host name like example.com, not {domain!r}"
                raise ConfigError(reader.path, f"{key}.domains[{index}]", problem)
        domains = domains or _hosts_of(url for group in urls.values() for url in group)
        outlets.append(
            OutletConfig(
                name=name,
                feeds=urls["feeds"],
                sitemaps=urls["sitemaps"],
                sections=urls["sections"],
                articles=urls["articles"],
                domains=domains,
                interval=reader.optional_duration(row, f"{key}.interval", "interval"),
                delay=reader.optional_duration(row, f"{key}.delay", "delay"),
                extract=_parse_extract(reader, row.get("extract"), f"{key}.extract"),
                robots_sitemaps=reader.optional(row, key, "robots_sitemaps", bool),
            )
        )
    return tuple(outlets)


def _parse_extract(reader: _Reader, value: Any, key: str) -> ExtractRules | None:
    """``[outlets.extract]``: body, title and drop selectors, each one or a list; checked by
    compiling them here, so a bad selector is a config error, not a failure mid-crawl."""
    if value is None:
        return None
    table = reader.typed(value, key, dict)
    from pipeline.extraction.sites import SiteRules  # lxml: only for configs that use it

    try:
        rules = SiteRules.from_mapping(table)
    except ValueError as error:
        message = str(error)
        field = next((k for k in ("body", "title", "drop") if f"extract.{k}" in message), None)
        if field:
            message = message.removeprefix(f"extract.{field}: ")  # the key names it already
        raise ConfigError(reader.path, f"{key}.{field}" if field else key, message) from None
    return ExtractRules(rules.body, rules.title, rules.drop)


def _parse_stories(
    reader: _Reader, value: Any, outlets: tuple[OutletConfig, ...]
) -> tuple[StoryConfig, ...]:
    rows = reader.typed(value, "stories", list)
    known_outlets = {o.name.casefold() for o in outlets}
    seen: set[str] = set()
    stories: list[StoryConfig] = []
    for index, row in enumerate(rows):
        key = f"stories[{index}]"
        row = reader.typed(row, key, dict)
        reader.only_keys(row, key, {"name", "query", "outlets", "since", "until"})
        name = reader.non_empty_str(row.get("name"), f"{key}.name")
        if name.casefold() in seen:
            raise ConfigError(reader.path, f"{key}.name", f"duplicate story name {name!r}")
        seen.add(name.casefold())
        story_outlets = reader.str_list(row.get("outlets", []), f"{key}.outlets")
        for outlet in story_outlets:
            if outlet.casefold() not in known_outlets:
                raise ConfigError(reader.path, f"{key}.outlets", f"unknown outlet {outlet!r}")
        query = reader.non_empty_str(row.get("query"), f"{key}.query")
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            raise ConfigError(reader.path, f"{key}.query", f"{exc} in {query!r}") from None
        since = _story_time(reader, row, key, "since")
        until = _story_time(reader, row, key, "until")
        if since and until and _as_datetime(since) > _as_datetime(until):
            raise ConfigError(reader.path, f"{key}.until", f"{until!r} is before since {since!r}")
        stories.append(
            StoryConfig(name=name, query=query, outlets=story_outlets, since=since, until=until)
        )
    return tuple(stories)


def _hosts_of(urls: Any) -> tuple[str, ...]:
    hosts: list[str] = []
    for url in urls:
        host = (urlsplit(url).hostname or "").lower()
        if host.startswith("www."):
            host = host[4:]
        if host and host not in hosts:
            hosts.append(host)
    return tuple(hosts)


class _Reader:
    """Typed accessors that raise :class:`ConfigError` naming the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def only_keys(self, table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                full = f"{prefix}.{key}" if prefix else key
                hint = ", ".join(sorted(allowed))
                raise ConfigError(self.path, full, f"unknown key (expected one of: {hint})")

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(self.path, key, f"expected a table [{key}], got {_kind(value)}")
        return value

    def typed(self, value: Any, key: str, kind: type[T]) -> T:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(self.path, key, f"expected {_kind_name(kind)}, got {_kind(value)}")
        return value

    def non_empty_str(self, value: Any, key: str) -> str:
        if value is None:
            raise ConfigError(self.path, key, "missing (required)")
        text = self.typed(value, key, str).strip()
        if not text:
            raise ConfigError(self.path, key, "must not be empty")
        return text

    def fraction(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(self.path, key, f"expected a number, got {_kind(value)}")
        if not 0.0 <= float(value) <= 1.0:
            raise ConfigError(self.path, key, "must be between 0 and 1")
        return float(value)

    def non_negative_int(self, value: Any, key: str) -> int:
        number = self.typed(value, key, int)
        if number < 0:
            raise ConfigError(self.path, key, "must not be negative")
        return number

    def duration(self, value: Any, key: str) -> timedelta:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if value < 0:
                raise ConfigError(self.path, key, f"must not be negative, got {value}")
            return timedelta(seconds=value)
        text = self.typed(value, key, str)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise ConfigError(self.path, key, str(exc)) from None

    def optional_duration(self, row: Mapping[str, Any], key: str, name: str) -> timedelta | None:
        return None if name not in row else self.duration(row[name], key)

    def optional(self, row: Mapping[str, Any], prefix: str, name: str, kind: type[T]) -> T | None:
        if name not in row:
            return None
        return self.typed(row[name], f"{prefix}.{name}" if prefix else name, kind)

    def str_list(self, value: Any, key: str) -> tuple[str, ...]:
        items = self.typed(value, key, list)
        return tuple(self.non_empty_str(item, f"{key}[{i}]") for i, item in enumerate(items))

    def urls(self, value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        urls = self.str_list(value, key)
        for index, url in enumerate(urls):
            try:
                parts = urlsplit(url)
                _ = parts.port  # a port that is no number, or out of range, raises here
            except ValueError as exc:
                problem = f"not a valid URL ({exc}): {url!r}"
                raise ConfigError(self.path, f"{key}[{index}]", problem) from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(self.path, f"{key}[{index}]", f"not an http(s) URL: {url!r}")
        return urls


def _kind_name(kind: type[Any]) -> str:
    return {
        str: "a string",
        int: "an integer",
        bool: "true or false",
        list: "a list",
        dict: "a table",
        float: "a number",
    }.get(kind, kind.__name__)


def _kind(value: Any) -> str:
    return _kind_name(type(value)) if not isinstance(value, bool) else "true/false"
