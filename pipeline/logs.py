"""Daemon logging: one line per event with time, level, job and outlet; stderr plus an
optional rotating file (``[run] log_file``, ``log_max_bytes``, ``log_backups``).

    2026-12-01T10:00:00.123Z INFO job=poll outlet="Outlet A" crawl finished (run 12, 3.1s)
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
import traceback
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from pipeline.config import RunConfig

FORMAT = "%(asctime)s %(levelname)s job=%(job_field)s outlet=%(outlet_field)s %(message)s"
_OURS = "_newsmon_daemon_handler"
_QUIET = ("scrapy", "twisted", "alembic")
_DUPLICATES = ("Execution of job", "Run time of job")


class EventFormatter(logging.Formatter):
    """UTC ISO times, ``job``/``outlet`` fields (``-`` when absent), exceptions on the same line."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.job_field = _field(getattr(record, "job", None))
        record.outlet_field = _field(getattr(record, "outlet", None))
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[1] is not None:
            line += " " + _one_line_exception(exc_info)
        return line.replace("\n", " ⏎ ")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class JobLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger whose lines carry one job and one outlet."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def job_logger(logger: logging.Logger, job: str, outlet: str | None = None) -> JobLogger:
    return JobLogger(logger, {"job": job, "outlet": outlet})


def setup_logging(run: RunConfig, base_dir: Path, verbose: int = 0) -> Path | None:
    """Install the daemon's handlers on the root logger (replacing earlier ones of ours).

    Args:
        run: the ``[run]`` section (log file and rotation).
        base_dir: a relative ``log_file`` is relative to this folder (the config file's).
        verbose: 0 info, 1 also APScheduler's own lines, 2 debug.

    Returns:
        The log file's path, if one is configured.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    formatter = EventFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    log_path = resolve_log_file(run, base_dir)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_path,
                maxBytes=run.log_max_bytes,
                backupCount=run.log_backups,
                encoding="utf-8",
            )
        )
    for handler in handlers:
        handler.setFormatter(formatter)
        if verbose == 0:
            handler.addFilter(_without_scheduler_duplicates)
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    scheduler_level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.getLogger("apscheduler").setLevel(scheduler_level)
    return log_path


def _without_scheduler_duplicates(record: logging.LogRecord) -> bool:
    """APScheduler's skip and misfire warnings are logged again, with job and outlet, by
    :mod:`pipeline.scheduler`; its other warnings (a job store that fails) pass."""
    return not (record.name.startswith("apscheduler") and str(record.msg).startswith(_DUPLICATES))


def resolve_log_file(run: RunConfig, base_dir: Path) -> Path | None:
    if not run.log_file:
        return None
    path = Path(run.log_file).expanduser()
    return path if path.is_absolute() else (base_dir / path).resolve()


def _field(value: Any) -> str:
    if value in (None, ""):
        return "-"
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ' "=') else text


def _one_line_exception(exc_info: Any) -> str:
    kind, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"[{kind.__name__}: {value}{where}]"
