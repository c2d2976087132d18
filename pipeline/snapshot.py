"""The configuration as ``newsmon run`` accepted it, copied for its crawl children.

Children read a private copy, not the user's file: an edit that breaks ``newsmon.toml`` (before
or after a SIGHUP that rejects it) never reaches a crawl, so the old configuration really keeps
running. Each accepted version gets its own file, so a child that is starting never sees two.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, ConfigError, load_config
from pipeline.procwatch import alive


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    config: Config  # ``config.path`` is the user's file (errors and relative paths use it)
    path: Path  # the private copy crawl children are given


class SnapshotStore:
    """A private folder of accepted config copies; :meth:`cleanup` removes it."""

    def __init__(self) -> None:
        _remove_folders_of_ended_daemons()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        self._count = 0
        self._lock = threading.Lock()

    def load(self, source: Path) -> ConfigSnapshot:
        """Copy and validate ``source``; raises :class:`ConfigError` naming ``source``."""
        with self._lock:
            self._count += 1
            copy = self.folder / f"newsmon-{self._count}.toml"
        try:
            shutil.copyfile(source, copy)
        except FileNotFoundError:
            raise ConfigError(source, None, "file not found (create it or pass --config)") from None
        except OSError as exc:
            raise ConfigError(source, None, f"cannot read file: {exc}") from None
        try:
            config = load_config(copy)
        except ConfigError as exc:
            copy.unlink(missing_ok=True)
            raise ConfigError(source, exc.key, exc.problem) from None
        return ConfigSnapshot(dataclasses.replace(config, path=source), copy)

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_PREFIX = "newsmon-run-"


def _remove_folders_of_ended_daemons() -> None:
    """A daemon killed with ``kill -9`` never removes its folder: the next one does, for every
    daemon whose process (named in the folder) has ended."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = folder.name[len(_PREFIX) :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
