"""``scrapy crawl news`` from the repo root (developers) with the config ``newsmon crawl`` uses.

Scrapy loads ``pipeline.settings`` only; without this the crawl would ignore ``newsmon.toml``
(its database, user agent, delays, private-address permission) and write to an empty
``./newsmon.db``. ``newsmon crawl`` applies the config itself and marks it applied. Called from
the spider's ``update_settings``: Scrapy creates the spider (which reads the database) before
it runs add-ons.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def apply_config(settings: BaseSettings) -> None:
    """Apply ``NEWSMON_CONFIG`` (``-s NEWSMON_CONFIG=…`` or the environment) to ``settings``;
    options given on the command line with ``-s`` keep their values."""
    if settings.getbool("NEWSMON_CONFIGURED"):
        return
    from pipeline.config import load_config
    from pipeline.crawl import CrawlOptions, config_settings, prepare_database

    config = load_config(settings.get("NEWSMON_CONFIG"))
    given = settings.getpriority("NEWSMON_DATABASE_URL") or 0
    if given >= 40 or "NEWSMON_DATABASE_URL" in os.environ:  # -s, or the environment
        url = settings.get("NEWSMON_DATABASE_URL")
    else:
        url = config.database_url or config.default_database_url()
    prepare_database(config, url)
    options = CrawlOptions(log_level=settings.get("LOG_LEVEL", "INFO"))
    for key, value in config_settings(config, url, options).items():
        # above the project's own settings (20), below the command line's -s (40)
        settings.set(key, value, priority="spider")
