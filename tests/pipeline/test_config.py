"""newsmon.toml parsing: typed values, defaults, and errors that name the file and the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config, parse_duration

CONTRACT_EXAMPLE = """
[database]
url = "sqlite:///newsmon.db"

[crawl]
user_agent = "newsmon (+https://example.org/bot)"
obey_robots = true
allow_private_addresses = false
interval = "30m"
delay = "1s"

[versions]
schedule = [["3h", "15m"], ["1d", "1h"], ["7d", "6h"], ["30d", "1d"]]

[[outlets]]
name = "Axios"
feeds = ["https://api.axios.com/feed/"]
sitemaps = ["https://www.axios.com/sitemap.xml"]
sections = ["https://www.axios.com/politics-policy"]
domains = ["axios.com"]

[[stories]]
name = "State Department dissent memo"
query = '"dissent memo" OR ("State Department" AND ceasefire)'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_contract_example(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONTRACT_EXAMPLE))
    assert config.database_url == "sqlite:///newsmon.db"
    assert config.crawl.interval == timedelta(minutes=30)
    assert config.crawl.delay == timedelta(seconds=1)
    assert config.versions.schedule[0] == (timedelta(hours=3), timedelta(minutes=15))
    (outlet,) = config.outlets
    assert outlet.name == "Axios"
    assert outlet.domains == ("axios.com",)
    assert outlet.owns_host("www.axios.com")
    assert not outlet.owns_host("notaxios.com")
    assert config.stories[0].query.startswith('"dissent memo"')


def test_domains_default_to_hosts_of_the_urls(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[[outlets]]\nname = "X"\nfeeds = ["https://www.example.org/rss"]\n')
    )
    assert config.outlets[0].domains == ("example.org",)


def test_missing_file_uses_defaults_only_when_allowed(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml", missing_ok=True).outlets == ()
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[crawl]\nspeed = 3\n", "crawl.speed", "unknown key"),
        ("[crawl]\nobey_robots = 'yes'\n", "crawl.obey_robots", "expected true or false"),
        ("[crawl]\ndelay = 'soon'\n", "crawl.delay", "cannot parse duration"),
        ("[crawl]\nconcurrency_per_outlet = 0\n", "crawl.concurrency_per_outlet", "at least 1"),
        ("[crawl]\ntimeout = '0s'\n", "crawl.timeout", "more than 0s"),
        ("[crawl]\nextraction_timeout = '0s'\n", "crawl.extraction_timeout", "more than 0s"),
        ("[crawl]\nmax_page_size = 0\n", "crawl.max_page_size", "at least 1 byte"),
        ("[run]\nrecheck_interval = 0\n", "run.recheck_interval", "more than 0s"),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\ndelay = -1\n',
            "outlets[0] (A).delay",
            "must not be negative",
        ),
        ('[[outlets]]\nname = "A"\n', "outlets[0] (A)", "outlet has no URL"),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
            '[[outlets]]\nname = "a"\nfeeds = ["https://b.example/rss"]\n',
            "outlets[1] (a).name",
            "duplicate outlet name",
        ),
        ('[[outlets]]\nname = "A"\nfeeds = ["ftp://a.example/rss"]\n', "feeds[0]", "not an http"),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["http://a.example:80x/rss"]\n',
            "outlets[0] (A).feeds[0]",
            "not a valid URL (Port could not be cast to integer value as '80x')",
        ),
        (
            '[[outlets]]\nname = "A"\nsitemaps = ["http://a.example:99999/s.xml"]\n',
            "outlets[0] (A).sitemaps[0]",
            "not a valid URL (Port out of range 0-65535)",
        ),
        (
            '[[outlets]]\nname = "A"\nsections = ["http://[::1/news"]\n',
            "outlets[0] (A).sections[0]",
            "not a valid URL (Invalid IPv6 URL)",
        ),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
            'domains = ["https://a.example/"]\n',
            "outlets[0] (A).domains[0]",
            "a host name like example.com, not 'https://a.example/'",
        ),
        ('[[outlets]]\nfeeds = ["https://a.example/rss"]\n', "outlets[0].name", "missing"),
        ("[versions]\nschedule = [['3h']]\n", "versions.schedule[0]", "expected a pair"),
        ("[database]\nurl = 5\n", "database.url", "expected a string"),
        ("[database]\nurl = 'postgres//foo'\n", "database.url", "invalid database URL"),
        ("[database]\nurl = 'mysql://u@h/db'\n", "database.url", "unsupported database"),
        ("crawl = 3\n", "crawl", "expected a table"),
        ("[crawl\n", None, "invalid TOML"),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
            '[outlets.extract]\nbody = "div[[["\n',
            "outlets[0] (A).extract.body",
            "invalid selector",
        ),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
            '[outlets.extract]\ntitle = "h1::text"\n',
            "outlets[0] (A).extract.title: invalid selector 'h1::text'",
            "Pseudo-elements are not supported",
        ),
        (
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
            '[outlets.extract]\nheadline = "h1"\n',
            "outlets[0] (A).extract",
            "unknown extract key",
        ),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str | None, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    if key:
        assert key in message
    assert problem in message


def test_story_outlets_must_be_configured(tmp_path: Path) -> None:
    text = (
        '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
        '[[stories]]\nname = "S"\nquery = "x"\noutlets = ["B"]\n'
    )
    with pytest.raises(ConfigError, match=r"stories\[0\]\.outlets: unknown outlet 'B'"):
        load_config(write(tmp_path, text))


OUTLET_A = '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'


@pytest.mark.parametrize(
    ("story", "key", "problem"),
    [
        ('query = "(("', "stories[0].query", "in '(('"),
        ('query = "x"\nsince = "yesterday"', "stories[0].since", "not a date: 'yesterday'"),
        ('query = "x"\nuntil = 5', "stories[0].until", "expected a date, got an integer"),
        (
            'query = "x"\nsince = 2023-11-02\nuntil = "2023-11-01"',
            "stories[0].until",
            "is before since",
        ),
    ],
)
def test_a_story_that_could_never_match_is_a_config_error(
    tmp_path: Path, story: str, key: str, problem: str
) -> None:
    path = write(tmp_path, OUTLET_A + f'[[stories]]\nname = "S"\n{story}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert problem in str(caught.value)


def test_story_dates_may_be_toml_dates_or_iso_strings(tmp_path: Path) -> None:
    story = 'query = "x"\nsince = 2023-11-01\nuntil = "2023-11-30T18:00Z"'
    config = load_config(write(tmp_path, OUTLET_A + f'[[stories]]\nname = "S"\n{story}\n'))
    assert (config.stories[0].since, config.stories[0].until) == ("2023-11-01", "2023-11-30T18:00Z")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), ("0s", 0)],
)
def test_parses_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "soon", "5", "1h and 5m", "m5"])
def test_rejects_unparsable_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_reads_run_and_dedupe_sections(tmp_path: Path) -> None:
    text = (
        '[run]\ncrawl_time_limit = "10m"\nlog_file = "/var/log/newsmon.log"\n'
        '[dedupe]\nsyndication_threshold = 0.8\ntracking_params = ["src", "cmp"]\n'
        '[versions]\nraw_html_retention = "90d"\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.run.crawl_time_limit == timedelta(minutes=10)
    assert config.run.log_file == "/var/log/newsmon.log"
    assert config.dedupe.syndication_threshold == 0.8
    assert config.dedupe.tracking_params == ("src", "cmp")
    assert config.versions.raw_html_retention == timedelta(days=90)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[dedupe]\nsyndication_threshold = 1.5\n", "dedupe.syndication_threshold"),
        ("[dedupe]\nstory_threshold = 'high'\n", "dedupe.story_threshold"),
        ("[run]\njitter = 'often'\n", "run.jitter"),
        ("[run]\nspeed = 1\n", "run.speed"),
    ],
)
def test_bad_run_and_dedupe_values_name_their_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text))


def test_outlet_extract_rules_take_css_and_xpath(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
            "[outlets.extract]\n"
            'body = "article .story-body"\n'
            'title = ["h1.headline", \'//meta[@property="og:title"]/@content\']\n'
            'drop = [".related", "aside"]\n',
        )
    )
    rules = config.outlets[0].extract
    assert rules is not None
    assert rules.body == ("article .story-body",)
    assert rules.title == ("h1.headline", '//meta[@property="og:title"]/@content')
    assert rules.drop == (".related", "aside")
