"""One database writer thread per crawl: batched transactions, off the reactor thread.

Articles, versions and fetch rows arrive from the pipelines and extensions; the writer groups
them into one transaction per batch (each item in its own savepoint, so one bad item cannot
sink the others) and hands each caller its result. SQLite then sees a single writer.

Jobs of a :class:`Bulk` kind (new articles, most of a first crawl) run together in one call
per batch, in a few statements instead of a few per item.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")
Job = Callable[["Session"], T]


@dataclass(frozen=True, eq=False)
class Bulk(Generic[P, T]):
    """A kind of job the writer runs many at a time.

    ``many`` gets the payloads of a batch and returns their results in order; ``one`` does the
    same for a single payload and is used, each in its own savepoint, when ``many`` fails, so
    that one bad payload cannot sink the others. Bulk jobs run after the batch's other jobs
    and must not depend on them.
    """

    many: Callable[[Session, list[P]], list[T]]
    one: Callable[[Session, P], T]


@dataclass
class _Task(Generic[T]):
    job: Job[T] | None
    bulk: Bulk[Any, T] | None = None
    payload: Any = None
    urgent: bool = False
    future: Future[T] = field(default_factory=Future)


# How long the writer gathers jobs into one transaction. Each commit has a fixed cost (SQLite's
# WAL frames, the FTS5 segment of the batch's search entries, the batch's look-ups): at the
# benchmark crawl's 35 pages a second, 0.05 s made batches of about 3 jobs, 0.3 s about 12
# (the writer's CPU for 2,000 new articles 11 → 6.5 s), 1 s about 40 at 55 pages a second
# (storing 1.85 → 1.62 ms a page offline). Gathering stops early when no job has come for
# ``DEFAULT_MAX_GAP``: at a crawl's end, or in a slow crawl, nothing else is coming, and the
# last pages would otherwise wait out the second before the crawl can finish.
DEFAULT_MAX_WAIT = 1.0
DEFAULT_MAX_GAP = 0.1


class BatchWriter:
    """Run ``job(session)`` callables in a background thread, many per transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_batch: int = 64,
        max_wait: float = DEFAULT_MAX_WAIT,
        max_gap: float = DEFAULT_MAX_GAP,
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_gap = max_gap
        self._queue: queue.Queue[_Task[Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="newsmon-writer", daemon=True)
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job[T], *, urgent: bool = False) -> Future[T]:
        """Queue ``job``; ``urgent``: someone blocks on it, so its batch is written at once."""
        task: _Task[T] = _Task(job, urgent=urgent)
        self._queue.put(task)
        return task.future

    async def run(self, job: Job[T]) -> T:
        """Submit ``job`` and wait for it without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(job))

    def submit_bulk(self, bulk: Bulk[P, T], payload: P) -> Future[T]:
        task: _Task[T] = _Task(None, bulk, payload)
        self._queue.put(task)
        return task.future

    async def run_bulk(self, bulk: Bulk[P, T], payload: P) -> T:
        """Submit one payload of a :class:`Bulk` job and wait for its result."""
        return await asyncio.wrap_future(self.submit_bulk(bulk, payload))

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        while True:
            batch, stop = self._next_batch()
            if batch:
                self._write(batch)
            if stop:
                return

    def _next_batch(self) -> tuple[list[_Task[Any]], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch and not batch[-1].urgent:
            timeout = min(deadline - time.monotonic(), self.max_gap)
            try:
                task = (
                    self._queue.get(timeout=max(0.0, timeout))
                    if timeout > 0
                    else (self._queue.get_nowait())
                )
            except queue.Empty:
                break
            if task is None:
                return batch, True
            batch.append(task)
        return batch, False

    def _write(self, batch: list[_Task[Any]]) -> None:
        results: list[tuple[_Task[Any], Any, BaseException | None]] = []
        try:
            with self.sessions.begin() as session:
                bulks: dict[Bulk[Any, Any], list[_Task[Any]]] = {}
                for task in batch:
                    if task.bulk is not None:
                        bulks.setdefault(task.bulk, []).append(task)
                    else:
                        assert task.job is not None
                        results.append(self._one(session, task, task.job))
                for bulk, tasks in bulks.items():
                    results += self._many(session, bulk, tasks)
        except Exception as exc:  # the commit itself failed: nothing of the batch is stored
            logger.exception("database batch of %d items failed", len(batch))
            for task in batch:
                task.future.set_exception(exc)
            return
        self.batches += 1
        self.items += len(batch)
        for task, value, error in results:
            if error is None:
                task.future.set_result(value)
            else:
                task.future.set_exception(error)

    @staticmethod
    def _one(
        session: Session, task: _Task[Any], job: Job[Any]
    ) -> tuple[_Task[Any], Any, BaseException | None]:
        try:
            with session.begin_nested():
                value = job(session)
        except Exception as exc:  # one bad item must not sink the batch
            logger.exception("database write failed")
            return task, None, exc
        return task, value, None  # only once the savepoint is released: it may still fail

    def _many(
        self, session: Session, bulk: Bulk[Any, Any], tasks: list[_Task[Any]]
    ) -> list[tuple[_Task[Any], Any, BaseException | None]]:
        try:
            with session.begin_nested():
                values = bulk.many(session, [task.payload for task in tasks])
        except Exception as exc:
            logger.warning("bulk write of %d items failed (%s); one by one", len(tasks), exc)
            return [
                self._one(session, task, lambda s, payload=task.payload: bulk.one(s, payload))
                for task in tasks
            ]
        return [(task, value, None) for task, value in zip(tasks, values, strict=True)]


_WRITERS: weakref.WeakKeyDictionary[Any, BatchWriter] = weakref.WeakKeyDictionary()


def register_writer(crawler: Any, writer: BatchWriter) -> None:
    """Make ``writer`` the crawl's writer (done by the extension that owns the crawl run)."""
    _WRITERS[crawler] = writer


def writer_for(crawler: Any) -> BatchWriter:
    try:
        return _WRITERS[crawler]
    except KeyError:
        raise RuntimeError(
            "no database writer: enable pipeline.extensions.CrawlRunExtension"
        ) from None
