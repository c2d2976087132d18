"""Worker tasks for the pool's failure tests: imported by the worker processes themselves."""

from __future__ import annotations

import os
import signal
import time

from pipeline.workers import Extracted, extract_in_worker

CRASH = b"<!-- test: kill this worker -->"
HANG = b"<!-- test: never finish -->"
SLOW = b"<!-- test: take a second and a half -->"


def crash_or_hang(body: bytes, url: str, content_type: str | None, *rest: object) -> Extracted:
    """``extract_in_worker``, except that a marked page kills its worker, never finishes or
    takes 1.5 s."""
    if CRASH in body:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
    if HANG in body:
        time.sleep(3600)
    if SLOW in body:
        time.sleep(1.5)
    return extract_in_worker(body, url, content_type, *rest)  # type: ignore[arg-type]
