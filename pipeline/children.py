"""Crawl child processes: start one, forward its stderr to the log, enforce its time limit,
stop it gracefully, and say how it ended.

Scrapy's reactor runs once per process, and a child contains crashes and memory growth, so
every crawl of ``newsmon run`` is ``python -m pipeline … crawl`` in its own process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pipeline.logs import JobLogger
from pipeline.procwatch import DAEMON_PID_ENV

KILL_AFTER = 5.0  # seconds from SIGTERM to SIGKILL
_READER_JOIN = 5.0
_BANNER = "Crawling "  # the crawl command's own first line: not worth a log line
# Traceback frames and SQL echo: kept at debug level, the event and exception lines are enough.
_DETAIL = (" ", "\t", "Traceback", "The above exception", "During handling", "[", "(")


class Stopping(RuntimeError):
    """The daemon is stopping: no new child is started."""


@dataclass(frozen=True, slots=True)
class ChildOutcome:
    """How a child ended: its exit status (negative: killed by that signal) and why."""

    returncode: int
    duration: float
    timed_out: bool = False
    stopped: bool = False  # stopped by the daemon's shutdown


def failure_reason(outcome: ChildOutcome, time_limit: float) -> str | None:
    """``None`` for a clean exit, else e.g. ``"killed by signal 9"``."""
    if outcome.timed_out:
        return f"timed out after {time_limit:.0f}s"
    code = outcome.returncode
    if code == 0:
        return None
    if code < 0:
        reason = f"killed by signal {-code}"
    else:
        reason = f"exit status {code}" if outcome.stopped else f"crashed with exit status {code}"
    return f"stopped at shutdown ({reason})" if outcome.stopped else reason


def crawl_command(
    config_path: Path, outlets: Sequence[str], recheck: str, run_id: int
) -> list[str]:
    """``python -P -m pipeline --config CFG crawl --outlet NAME… --recheck R --run-id ID``.

    The database URL goes in the environment (:func:`child_env`), not on the command line,
    where ``ps`` would show a password.
    """
    # -P: the daemon's working directory is not put on the child's path, so a `pipeline`
    # folder there (an old checkout) cannot stand in for the installed newsmon
    argv = [sys.executable, "-P", "-m", "pipeline", "--config", str(config_path), "crawl"]
    for name in outlets:
        argv += ["--outlet", name]
    return [*argv, "--recheck", recheck, "--run-id", str(run_id)]


def child_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["NEWSMON_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    env[DAEMON_PID_ENV] = str(os.getpid())  # the child stops if this process is killed
    return env


class ChildProcess:
    """One running child in its own session (a terminal's Ctrl-C reaches only the daemon)."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], log: JobLogger, time_limit: float
    ) -> None:
        self.log = log
        self.time_limit = time_limit
        self.stop_requested = False
        self.timed_out = False
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
            text=True,
            errors="replace",
        )
        self._reader = threading.Thread(
            target=self._forward, args=(self.proc.stderr,), name=f"child-{self.pid}", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self) -> ChildOutcome:
        """Block until the child exits; at its time limit, terminate it, then kill it."""
        remaining = self.time_limit - (time.monotonic() - self.started)
        try:
            self.proc.wait(timeout=max(0.0, remaining))
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.log.warning(
                "time limit %.0fs reached: terminating pid %d", self.time_limit, self.pid
            )
            self.terminate_then_kill()
        if self.proc.returncode != 0:
            self._kill_leftovers()
        self._reader.join(timeout=_READER_JOIN)
        return ChildOutcome(
            returncode=self.proc.returncode,
            duration=time.monotonic() - self.started,
            timed_out=self.timed_out,
            stopped=self.stop_requested,
        )

    def wait_until(self, deadline: float) -> bool:
        """Wait for the exit until ``deadline`` (monotonic); True if it exited."""
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return True

    def interrupt(self) -> None:
        """SIGINT to the child alone: Scrapy stops cleanly and closes its crawl run."""
        self._signal(signal.SIGINT, group=False)

    def terminate_then_kill(self, after: float | None = None) -> None:
        """SIGTERM to the child's process group, SIGKILL if still alive ``after`` seconds later
        (default :data:`KILL_AFTER`)."""
        self._signal(signal.SIGTERM, group=True)
        if not self.wait_until(time.monotonic() + (KILL_AFTER if after is None else after)):
            self.log.warning("pid %d did not stop: killing it", self.pid)
            self._signal(signal.SIGKILL, group=True)
            self.proc.wait()

    def _kill_leftovers(self) -> None:
        """Kill what a failed child left in its process group (its extraction workers, say).

        Safe after the child is reaped: Linux does not reuse a pid while a process group of
        that id still has members, and without members there is nothing to signal.
        """
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def _signal(self, signum: int, *, group: bool) -> None:
        if self.proc.poll() is not None:  # reaped: its pid may belong to someone else now
            return
        try:
            if group:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)
        except ProcessLookupError:
            pass

    def _forward(self, stream: IO[str] | None) -> None:
        """Child stderr, line by line, into the daemon's log (with this job and outlet)."""
        if stream is None:
            return
        with stream:
            for raw in stream:
                line = raw.rstrip()
                if not line:
                    continue
                if line.startswith(_BANNER) or line.startswith(_DETAIL):
                    self.log.debug("child %d: %s", self.pid, line)
                else:
                    self.log.warning("child %d: %s", self.pid, line)


class ChildRegistry:
    """The running children, so a shutdown can stop them all; refuses new ones once stopping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: set[ChildProcess] = set()
        self._hurry = threading.Event()
        self.stopping = False

    def spawn(
        self, argv: Sequence[str], env: dict[str, str], log: JobLogger, time_limit: float
    ) -> ChildProcess:
        with self._lock:
            if self.stopping:
                raise Stopping("newsmon run is stopping")
            child = ChildProcess(argv, env, log, time_limit)
            self._children.add(child)
            return child

    def forget(self, child: ChildProcess) -> None:
        with self._lock:
            self._children.discard(child)

    def count(self) -> int:
        with self._lock:
            return len(self._children)

    def hurry(self) -> None:
        """A second stop signal: cut the grace period short."""
        self._hurry.set()

    def stop_all(self, grace: float, log: JobLogger) -> None:
        """SIGINT every child, wait up to ``grace`` seconds, then terminate and kill the rest."""
        with self._lock:
            self.stopping = True
            children = [c for c in self._children if c.running()]
        if not children:
            return
        log.info("stopping %d crawl(s): %.0fs grace period", len(children), grace)
        for child in children:
            child.stop_requested = True
            child.interrupt()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self._hurry.is_set():
            if not any(c.running() for c in children):
                return
            self._hurry.wait(0.2)
        for child in children:
            if child.running():
                log.warning("pid %d still running after the grace period: terminating", child.pid)
                child.terminate_then_kill()


class CrawlSlots:
    """At most ``size`` crawls at once, granted in arrival order, so no outlet starves."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    def acquire(self, cancelled: threading.Event) -> bool:
        """Wait for a slot; False if ``cancelled`` is set first."""
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or self._free == 0:
                    if cancelled.is_set():
                        return False
                    self._changed.wait(0.5)
                self._free -= 1
                return True
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()
