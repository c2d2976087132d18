"""What the tests read of processes in /proc (Linux): parents, states, fork servers, memory."""

from __future__ import annotations

import os
from pathlib import Path

HAS_PROC = Path("/proc/self/stat").exists()


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first, then the parent)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def parent_of(pid: int | str) -> int:
    return int(_stat_fields(pid)[1])


def is_running(pid: int | str) -> bool:
    """The process exists and is not a zombie waiting for its parent."""
    try:
        return _stat_fields(pid)[0] != "Z"
    except OSError:
        return False


def fork_servers_of(pid: int | None = None) -> list[str]:
    """The multiprocessing fork servers that ``pid`` (default: this process) started."""
    parent = os.getpid() if pid is None else pid
    found = []
    for child in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if parent_of(child) == parent and b"multiprocessing.forkserver" in command:
                found.append(child)
        except OSError:
            continue
    return found


def resident_mb(pid: int) -> int:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 2**20
