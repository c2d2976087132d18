"""Extraction in a process pool, off the reactor thread.

trafilatura holds the GIL for 15-40 ms a page: run in Scrapy's reactor thread it stalls
downloads and caps the crawl at one core (PITFALLS.md). Here pages go to worker processes;
the number of pages in flight is bounded so a fast outlet cannot fill memory.

One bad page must not cost the rest of the crawl: a worker that dies on a page (a crash in a
parser's C code, the kernel's OOM killer) breaks the whole ``ProcessPoolExecutor``, and a page
that never finishes holds its worker for good. The pool then starts afresh; the pages that were
in flight are extracted again, one at a time, and only a page that fails again, or overran the
time limit, is recorded as not extracted, with the reason.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipeline.config import ExtractRules
from pipeline.extraction.boilerplate import BoilerplateRule, learn_and_filter
from pipeline.extraction.errors import ExtractionFailed
from pipeline.features import PreparedFeatures, prepare
from pipeline.items import Article
from pipeline.procwatch import when_ended

if TYPE_CHECKING:
    from pipeline.extraction.sites import SiteRules

logger = logging.getLogger(__name__)

# What the workers preload: trafilatura, lxml and readability for extraction, numpy and justext
# for the texts' features; never imported by the crawler.
EXTRACTION_MODULES = ["pipeline.extraction.article", "pipeline.minhash", "pipeline.terms"]


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a worker sends back: an article, or why there is none.

    ``line_keys``: the lines of the text as extracted, before the outlet's repeated lines were
    removed, for the outlet's window to learn from (asked for new articles only).
    ``features``: what post-processing needs of the final text, computed here on every core.
    """

    article: Article | None
    reason: str | None = None
    line_keys: frozenset[int] | None = None
    features: PreparedFeatures | None = None


def extract_in_worker(
    body: bytes,
    url: str,
    content_type: str | None,
    rules: ExtractRules | None = None,
    repeated: BoilerplateRule | None = None,
    learn: bool = False,
    features: bool = True,
) -> Extracted:
    """The worker side: plain arguments in, a small picklable result out.

    ``repeated``: the outlet's repeated lines, removed from the text; ``learn``: also return
    the text's line keys; ``features``: also prepare the text's features.
    """
    from pipeline.extraction.article import extract_article  # preloaded in workers

    site = _compiled(rules) if rules is not None else None
    try:
        article = extract_article(body, url=url, content_type=content_type, rules=site)
    except ExtractionFailed as exc:
        return Extracted(None, exc.reason)
    except Exception as exc:  # a page that trips up a parser must not take the crawl down
        logger.warning("extraction of %s failed", url, exc_info=True)
        return Extracted(None, f"extraction error: {type(exc).__name__}: {exc}"[:500])
    keys = None
    if learn:
        article.text, keys = learn_and_filter(article.text, repeated)
    elif repeated:
        article.text = repeated.filter(article.text)
    prepared = prepare(article.title, article.text, article.language) if features else None
    return Extracted(article, line_keys=keys, features=prepared)


@lru_cache(maxsize=256)
def _compiled(rules: ExtractRules) -> SiteRules:
    """An outlet's selectors, compiled once per worker."""
    from pipeline.extraction.sites import SiteRules

    return SiteRules(rules.body, rules.title, rules.drop)


# Extraction workers run at a lower priority than the crawler process, which feeds them and
# stores their work: on a machine with as many workers as cores, the crawler's reactor and
# writer otherwise wait for a time slice while the workers run out of pages (about 3 % faster
# end to end on bench/throughput.py, within its noise), and a long crawl leaves the host's
# other work alone.
WORKER_NICENESS = 5


# In a worker: where it notes when it started its current page, and which page (see _timed).
_clock: tuple[Any, int] | None = None


def _worker_setup(crawler: int = 0, starts: Any = None, counter: Any = None) -> None:
    """Lower priority; Ctrl-C is the crawler's to handle (a worker that took it too would die
    with a traceback in the user's terminal while the crawl shuts down); a slot in ``starts``;
    and an exit when the crawler process is gone (killed with SIGKILL, say)."""
    global _clock
    os.nice(WORKER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if starts is not None and counter is not None:
        with counter.get_lock():
            slot = counter.value
            counter.value += 1
        if 2 * slot + 1 < len(starts):
            _clock = (starts, slot)
    if crawler:
        when_ended(crawler, lambda: _exit_with(crawler), "newsmon-crawler-watch")


def _exit_with(crawler: int) -> None:
    """The crawler has ended: end this worker and the fork server it came from, as nothing
    else would (the fork server keeps running, holding its workers' memory)."""
    fork_server = os.getppid()
    if fork_server not in (crawler, 1):
        os.kill(fork_server, signal.SIGTERM)
    os._exit(1)


def _timed(task: Callable[..., Extracted], token: float, *args: Any) -> Extracted:
    """Run ``task`` in a worker, noting in the shared clock when this page (``token``) began:
    the crawler's time limit counts from there, not from when the page was queued."""
    try:
        if _clock is None:
            return task(*args)
        starts, slot = _clock
        starts[2 * slot + 1] = token
        starts[2 * slot] = time.monotonic()
        try:
            return task(*args)
        finally:
            starts[2 * slot] = 0.0
    finally:
        if args and isinstance(args[0], bytes) and len(args[0]) > BIG_PAGE:
            _give_back_memory()


# glibc keeps the heap a big page made the worker grow to (a 5 MB page: about 70 MB more, for
# the rest of the crawl, in every worker that met one); malloc_trim hands it back.
BIG_PAGE = 1_000_000
_libc: Any = None


def _give_back_memory() -> None:
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
        except OSError:  # not glibc: nothing to trim
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


def _fork_server_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(EXTRACTION_MODULES)
    return context


def start_fork_server() -> None:
    """Start the extraction workers' fork server and its preload, without waiting for either.

    One per process: a pool created later forks its workers from it. Safe to call again.
    """
    _fork_server_context()
    multiprocessing.forkserver.ensure_running()


# A page still in extraction after this long is given up, and its worker killed (the crawl's
# ``[crawl] extraction_timeout``). The slowest benchmark page takes about 2 s; 5 MB of HTML, the
# page-size cap, about 30 s on a slow core.
EXTRACTION_TIMEOUT = 120.0

WORKER_DIED = "the extraction worker died on this page (crashed or killed)"


class _WorkerLost(Exception):
    """The page's worker died or overran: ``retry`` when the page may not be the cause."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _began(starts: Any, token: float) -> float:
    """When a worker began the page ``token`` (``time.monotonic()``), or 0.0: still queued."""
    for slot in range(len(starts) // 2):
        if starts[2 * slot + 1] == token:
            return float(starts[2 * slot])
    return 0.0


class ExtractionPool:
    """A bounded process pool; with ``workers == 0`` extraction runs inline (small crawls).

    ``timeout``: seconds a page may take in a worker; ``task``: what a worker runs (tests give a
    function that crashes or hangs on purpose).
    """

    def __init__(
        self,
        workers: int,
        max_pending: int | None = None,
        timeout: float = EXTRACTION_TIMEOUT,
        task: Callable[..., Extracted] = extract_in_worker,
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self.restarts = 0  # pools replaced after a worker died or overran
        self._task = task
        self._executor: ProcessPoolExecutor | None = None
        self._starts: Any = None  # the executor's shared clock: (start, page token) per worker
        self._tokens = 0.0
        self._slots: asyncio.Semaphore | None = None
        self._retries: asyncio.Lock | None = None
        self._max_pending = max_pending or max(4, 4 * workers)
        self._warming = False

    def start(self) -> None:
        if self.workers > 0:
            # The fork server starts, and preloads, at the first page to extract (or when
            # :meth:`warm` is called): a recheck pass of unchanged pages never pays for loading
            # trafilatura and numpy.
            self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        context = _fork_server_context()
        self._starts = context.Array("d", 2 * self.workers, lock=False)
        counter = context.Value("i", 0)
        return ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_worker_setup,
            initargs=(os.getpid(), self._starts, counter),
        )

    def warm(self) -> None:
        """Start the fork server now, without waiting for it: a crawl that will extract calls
        this as soon as it knows, so the preload (about 1 s of imports) runs on another core
        while the crawl fetches robots.txt and feeds, instead of holding the first page, and
        the reactor with it, when the first page is submitted."""
        if self._executor is not None and not self._warming:
            self._warming = True
            start_fork_server()

    async def extract(
        self,
        body: bytes,
        url: str,
        content_type: str | None,
        rules: ExtractRules | None = None,
        repeated: BoilerplateRule | None = None,
        learn: bool = False,
        features: bool = True,
    ) -> Extracted:
        """:func:`extract_in_worker` in a worker (or inline without workers).

        A page whose worker died is tried once more, alone, in a fresh pool: it may only have
        been in flight when another page killed the pool.
        """
        args = (body, url, content_type, rules, repeated, learn, features)
        if self._executor is None:
            return self._task(*args)
        if self._slots is None:  # created lazily: they must belong to the running loop
            self._slots = asyncio.Semaphore(self._max_pending)
            self._retries = asyncio.Lock()
        assert self._retries is not None
        try:
            async with self._slots:
                return await self._in_worker(args)
        except _WorkerLost as lost:
            if not lost.retry:
                return Extracted(None, lost.reason)
        async with self._retries, self._slots:
            try:
                return await self._in_worker(args)
            except _WorkerLost as lost:
                return Extracted(None, lost.reason)

    async def _in_worker(self, args: tuple[object, ...]) -> Extracted:
        executor, starts = self._executor, self._starts
        assert executor is not None
        self._tokens += 1.0
        token = self._tokens
        try:
            future: Future[Extracted] = executor.submit(_timed, self._task, token, *args)
            waiting = asyncio.wrap_future(future)
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=self._check_every)
                if done:
                    return waiting.result()
                began = _began(starts, token)
                if began and time.monotonic() - began > self.timeout:
                    break
        except BrokenProcessPool:
            self._replace(executor, kill=False)
            raise _WorkerLost(WORKER_DIED, retry=True) from None
        self._replace(executor, kill=True)
        reason = f"extraction took longer than {self.timeout:g} s (worker stopped)"
        raise _WorkerLost(reason, retry=False)

    @property
    def _check_every(self) -> float:
        return min(5.0, max(0.1, self.timeout / 4))

    def _replace(self, executor: ProcessPoolExecutor, *, kill: bool) -> None:
        """A fresh pool instead of ``executor``, once however many of its pages noticed."""
        if executor is not self._executor:
            return
        if kill:
            # ProcessPoolExecutor cannot stop one busy task: stop its processes (its pages in
            # flight then fail as a broken pool, and are tried again in the new one).
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.kill()
        # its pages in flight fail as a broken pool (cancelling them would cancel their callers)
        executor.shutdown(wait=False)
        self._executor = self._new_executor()
        self.restarts += 1
        logger.warning("extraction workers restarted (%d so far this crawl)", self.restarts)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
