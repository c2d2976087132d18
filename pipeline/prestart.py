"""Start the extraction workers at once when a crawl will surely extract.

A crawl process spends about a second and a half (Scrapy's imports, migrations, robots.txt,
feeds) before it finds its first article link, and the workers' fork server then spends about
as long importing trafilatura, lxml and numpy: each on one core, one after the other, with the
other core idle. On an outlet's first crawl every listed page is new, so the fork server can
start before all that, beside the crawl's own start-up (on the 2,000-page benchmark crawl the
first page was extracted about 1.5 s sooner). Later crawls keep starting it at their first
page to extract: a pass that finds nothing new never loads trafilatura.

Imports nothing heavy (no Scrapy): the ``crawl`` command calls this before loading the crawler.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from pipeline.workers import start_fork_server
from storage.db import DatabaseUrlError, make_engine, make_session_factory
from storage.repository import outlets_without_articles

logger = logging.getLogger(__name__)

_started = False
_decided: dict[tuple[str, tuple[str, ...]], bool] = {}  # asked again by run_crawl: no 2nd query


def warm_workers_for_new_outlets(database_url: str, outlets: Sequence[str]) -> bool:
    """Start the fork server if one of ``outlets`` has no stored article; whether it did.

    A database without newsmon's tables yet counts as holding none. A database that cannot be
    reached or a bad URL is left to the crawl to report: nothing is started then.
    """
    global _started
    if _started:
        return True
    key = (database_url, tuple(sorted(outlets)))
    if key not in _decided:
        _decided[key] = bool(outlets) and _first_crawl_of_some(database_url, outlets)
    if not _decided[key]:
        return False
    start_fork_server()
    _started = True
    return True


def _first_crawl_of_some(database_url: str, outlets: Sequence[str]) -> bool:
    try:
        engine = make_engine(database_url)
    except DatabaseUrlError:
        return False
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "articles"):
                return True
        with make_session_factory(engine)() as session:
            return bool(outlets_without_articles(session, outlets))
    except SQLAlchemyError as exc:
        logger.debug("could not tell whether the crawl's outlets are new: %s", exc)
        return False
    finally:
        engine.dispose()
