"""Scrapy settings for newsmon: crawler internals and the NEWSMON_* settings.

The user's newsmon.toml is turned into overrides of these by ``pipeline.crawl.crawl_settings``.
Scrapy's own settings are documented at https://docs.scrapy.org/en/latest/topics/settings.html.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "newsmon"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- Politeness -----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# A response yields at most one item; 100 (the default) only makes 100 idle tasks per response.
CONCURRENT_ITEMS = 16
# Responses whose items are still in the pipelines, in bytes, before Scrapy stops scheduling
# downloads (default 5 MB). The crawl's writer gathers a second of pages per transaction: at
# 55 pages of 80 KB a second those alone would fill 5 MB, leaving no pages queued for the
# extraction workers. Still a bound: a fast outlet cannot fill memory.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 20_000_000
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 would listen on a local port
HTTPCACHE_ENABLED = False
# Scrapy checks each callback's source for "return" in a generator, cached by the callback
# object; bound methods are new objects per request, so it re-parsed parse_article's source
# (inspect + ast) for most responses: about a millisecond each, measured on rechecks.
WARN_ON_GENERATOR_RETURN_VALUE = False
DNS_TIMEOUT = 20

# --- Components -----------------------------------------------------------------------------
# Scrapy components a news crawl does not use are left out, not just unconfigured: each costs
# per request (or an import at start-up), and rechecks are mostly cheap 304s.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # outlets' domains: spider
    "pipeline.middlewares.PrivateAddressMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "pipeline.middlewares.OrderedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "pipeline.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "pipeline.middlewares.PrecheckedMetaRefreshMiddleware": 580,
    "pipeline.middlewares.RedirectLoopMiddleware": 610,  # before Scrapy's redirects (600)
    "pipeline.middlewares.RedirectedValidatorsMiddleware": 620,
    "pipeline.middlewares.FetchLogMiddleware": 950,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    "pipeline.middlewares.CallbackErrorMiddleware": 950,
}
# Scrapy imports every class of EXTENSIONS_BASE, even one disabled with None (the remote
# control's aiohttp alone takes 0.1 s at each crawl's start): these are removed from the base.
_UNUSED_EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.spiderstate.SpiderState",
}
EXTENSIONS_BASE = {
    name: order
    for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if name not in _UNUSED_EXTENSIONS
}
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "pipeline.extensions.PoliteThrottle": 0,
    "pipeline.extensions.CrawlRunExtension": 10,
    "pipeline.extensions.ProgressExtension": 20,
}
ITEM_PIPELINES = {
    "pipeline.pipelines.ExtractArticlePipeline": 100,
    "pipeline.pipelines.StoreArticlePipeline": 300,
}
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

# --- newsmon --------------------------------------------------------------------------------
NEWSMON_DATABASE_URL = os.environ.get("NEWSMON_DATABASE_URL", "sqlite:///newsmon.db")
NEWSMON_CONFIG = os.environ.get("NEWSMON_CONFIG", "newsmon.toml")
NEWSMON_OUTLETS: list[str] = []
NEWSMON_RUN_ID: int | None = None
NEWSMON_ALLOW_PRIVATE_ADDRESSES = False
NEWSMON_RETRY_BACKOFF = 2.0
NEWSMON_RETRY_AFTER_CAP = 60.0
NEWSMON_OUTLET_DELAYS: dict[str, float] = {}
NEWSMON_MAX_AGE_DAYS = 30.0
NEWSMON_MAX_ARTICLES_PER_OUTLET = 0
NEWSMON_PROGRESS_INTERVAL = 0.0
NEWSMON_FETCH_LOG_BATCH = 200
NEWSMON_RECHECK = "due"
NEWSMON_TRACKING_PARAMS: list[str] = []
NEWSMON_EXTRACT_WORKERS = -1
NEWSMON_EXTRACT_TIMEOUT = 120.0
NEWSMON_REPEATED_LINES = True
NEWSMON_SCHEDULE: list[list[float]] = [
    [3 * 3600, 15 * 60],
    [86400, 3600],
    [7 * 86400, 3 * 3600],
    [30 * 86400, 3 * 86400],
    [360 * 86400, 30 * 86400],
]

# One line of help for every NEWSMON_* setting; tests/test_docs.py keeps this complete.
NEWSMON_SETTINGS_HELP = {
    "NEWSMON_DATABASE_URL": "SQLAlchemy URL of the database (env NEWSMON_DATABASE_URL).",
    "NEWSMON_CONFIG": "Path of newsmon.toml, read by the spider (env NEWSMON_CONFIG).",
    "NEWSMON_OUTLETS": "Names of the outlets to crawl; empty means all configured outlets.",
    "NEWSMON_RUN_ID": "Crawl-run row created by the caller; None lets the crawl create its own.",
    "NEWSMON_ALLOW_PRIVATE_ADDRESSES": "Allow loopback/private hosts (test and demo outlets only).",
    "NEWSMON_RETRY_BACKOFF": "Base of the exponential retry backoff, in seconds.",
    "NEWSMON_RETRY_AFTER_CAP": "Longest Retry-After honoured; a longer one skips the outlet.",
    "NEWSMON_OUTLET_DELAYS": "Least delay in seconds between requests, per outlet name.",
    "NEWSMON_MAX_AGE_DAYS": "Feed/sitemap entries dated older than this are skipped as stale.",
    "NEWSMON_MAX_ARTICLES_PER_OUTLET": "Cap on new articles fetched per outlet and pass (0: none).",
    "NEWSMON_PROGRESS_INTERVAL": "Seconds between progress lines on stderr (0: no progress).",
    "NEWSMON_FETCH_LOG_BATCH": "Fetch records buffered before one database write.",
    "NEWSMON_RECHECK": "Which stored articles to fetch again: due, all or none.",
    "NEWSMON_TRACKING_PARAMS": "Extra query parameters dropped from article URLs ([dedupe]).",
    "NEWSMON_EXTRACT_WORKERS": "Extraction processes; -1: one per core, 0: in the crawl process.",
    "NEWSMON_EXTRACT_TIMEOUT": "Seconds a page may take in a worker before the worker is stopped.",
    "NEWSMON_REPEATED_LINES": "Remove lines repeated across an outlet's recent new articles.",
    "NEWSMON_SCHEDULE": "Recheck schedule: [max age, recheck every] pairs in seconds.",
}
