"""One database writer thread per crawl: batched transactions, off the reactor thread.

Articles, versions and fetch rows arrive from the pipelines and extensions; the writer groups
them into one transaction per batch (each item in its own savepoint, so one bad item cannot
sink the others) and hands each caller its result. SQLite then sees a single writer.
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
Job = Callable[["Session"], T]


@dataclass
class _Task(Generic[T]):
    job: Job[T]
    future: Future[T] = field(default_factory=Future)


class BatchWriter:
    """Run ``job(session)`` callables in a background thread, many per transaction."""

    def __init__(
        self, sessions: sessionmaker[Session], *, max_batch: int = 64, max_wait: float = 0.05
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.Queue[_Task[Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="newsmon-writer", daemon=True)
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job[T]) -> Future[T]:
        task: _Task[T] = _Task(job)
        self._queue.put(task)
        return task.future

    async def run(self, job: Job[T]) -> T:
        """Submit ``job`` and wait for it without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(job))

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
        while len(batch) < self.max_batch:
            timeout = deadline - time.monotonic()
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
                for task in batch:
                    try:
                        with session.begin_nested():
                            value = task.job(session)
                    except Exception as exc:  # one bad item must not sink the batch
                        logger.exception("database write failed")
                        results.append((task, None, exc))
                    else:  # only once the savepoint is released: it may still fail
                        results.append((task, value, None))
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
