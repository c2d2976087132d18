"""Waiting for another process to end: how children notice that their parent is gone.

A child killed with its parent is the operating system's job only for a process group it is
signalled as one; ``kill -9`` of a parent reaches no child. Extraction workers and the crawl
children of ``newsmon run`` each watch their parent this way and stop themselves.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Callable


def wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` has ended (a pidfd; on old kernels, a look every second)."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd, or the process is gone already
        while alive(pid):
            time.sleep(1.0)
        return
    try:
        select.select([handle], [], [])
    finally:
        os.close(handle)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def when_ended(pid: int, action: Callable[[], None], name: str) -> threading.Thread:
    """Run ``action`` in a daemon thread of its own once process ``pid`` has ended."""

    def watch() -> None:
        wait_for_exit(pid)
        action()

    thread = threading.Thread(target=watch, name=name, daemon=True)
    thread.start()
    return thread


# Set by ``newsmon run`` in its crawl children's environment: the daemon's pid.
DAEMON_PID_ENV = "NEWSMON_DAEMON_PID"
DAEMON_GONE_GRACE = 60.0  # seconds a crawl whose daemon died gets to stop cleanly


def stop_when_daemon_ends() -> threading.Thread | None:
    """In a crawl started by ``newsmon run``: stop it cleanly (as Ctrl-C would: what it fetched
    is stored, its run closed as interrupted) if the daemon is killed. Otherwise it would crawl
    on beside the daemon restarted after it, the same outlets twice at once."""
    value = os.environ.get(DAEMON_PID_ENV, "")
    if not value.isdigit() or int(value) == os.getpid():
        return None
    return when_ended(int(value), _interrupt_self, "newsmon-daemon-watch")


def _interrupt_self() -> None:
    os.kill(os.getpid(), signal.SIGINT)  # the crawl's first Ctrl-C: a clean stop
    time.sleep(DAEMON_GONE_GRACE)
    os.kill(os.getpid(), signal.SIGINT)  # the second: stop now
