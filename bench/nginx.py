"""Local outlets served by nginx from files, for benchmarks.

Python's ``http.server`` costs about as much CPU per request as the crawler does (PITFALLS.md),
and on two cores that CPU is taken from the crawl being measured. nginx serves the same routes,
rendered to files once, with real ``ETag``/``Last-Modified`` handling: a conditional request for
an unchanged file gets a 304.

Modes are switched between crawls by a graceful reload: ``validators`` (as nginx serves files),
``bare`` (validators ignored: every request gets the full body, the raw-hash path) and any other
tree of files rendered under the same root (``tree``), e.g. edited pages.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.procs import cpu_ticks, descendants
from pipeline.demo.server import RequestInfo, Route, Site

MAIN_TREE = "pages"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def file_of(root: Path, address: str, path: str) -> Path:
    """Where the body served at ``path`` (query ignored) of ``address`` is stored."""
    target = root / address / path.lstrip("/").split("?")[0]
    if path.endswith("/") or not path.split("?")[0].strip("/"):
        target = target / "index.html"
    return target


def render_sites(sites: list[Site], root: Path, port: int) -> None:
    """Write every route of every site to ``root/<address>/<path>``."""
    for site in sites:
        for path, handler in site.routes.items():
            route = (
                handler
                if isinstance(handler, Route)
                else handler(RequestInfo(site.address, port, "GET", path, {}))
            )
            target = file_of(root, site.address, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(route.body)


@dataclass
class Nginx:
    """One nginx master on ``port`` of every address, serving ``prefix/<tree>/<address>``."""

    prefix: Path
    addresses: list[str]
    port: int
    process: subprocess.Popen[bytes] | None = None
    generation: int = 0

    def start(self, tree: str = MAIN_TREE, *, validators: bool = True) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SystemExit("nginx is needed for this benchmark: apt-get install nginx-light")
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        _let_workers_in(self.prefix)
        self._write_config(tree, validators)
        self.process = subprocess.Popen([binary, "-p", str(self.prefix), "-c", "nginx.conf"])
        self._wait_for_generation()

    def switch(self, tree: str = MAIN_TREE, *, validators: bool = True) -> None:
        """Serve another tree or validator mode: graceful reload, then wait until it answers."""
        assert self.process is not None
        self._write_config(tree, validators)
        self.process.send_signal(1)  # SIGHUP: reload the configuration
        self._wait_for_generation()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()
            self.process = None

    def cpu_seconds(self) -> float:
        """User + system CPU of the master, its live workers and the workers it has reaped
        (a reload retires workers)."""
        if self.process is None:
            return 0.0
        workers = [pid for pid in descendants(self.process.pid) if pid != self.process.pid]
        total = sum(cpu_ticks(pid) for pid in workers)
        total += cpu_ticks(self.process.pid, reaped_children=True)
        return total / os.sysconf("SC_CLK_TCK")

    def _write_config(self, tree: str, validators: bool) -> None:
        self.generation += 1
        conditional = "" if validators else "etag off; if_modified_since off;"
        servers = "\n".join(
            f"server {{ listen {address}:{self.port}; root {self.prefix / tree / address}; "
            f"default_type text/html; {conditional} "
            f'location = /__generation {{ return 200 "{self.generation}"; }} '
            "location / { try_files $uri $uri/index.html =404; } }"
            for address in self.addresses
        )
        temp = self.prefix / "tmp"
        (self.prefix / "nginx.conf").write_text(
            "worker_processes 1; daemon off; pid nginx.pid; error_log stderr error;\n"
            "events { worker_connections 1024; }\n"
            "http { access_log off; sendfile on; keepalive_requests 100000;\n"
            "types { text/html html; application/xml xml; text/plain txt; }\n"
            f"client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};\n"
            f"uwsgi_temp_path {temp}; scgi_temp_path {temp};\n"
            f"{servers} }}\n",
            encoding="utf-8",
        )

    def _wait_for_generation(self) -> None:
        """Until every address answers with the current configuration."""
        wanted = str(self.generation).encode()
        deadline = time.monotonic() + 10
        for address in self.addresses:
            while _get(address, self.port, "/__generation") != wanted:
                if time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not serve configuration {self.generation}")
                time.sleep(0.05)


def _let_workers_in(folder: Path) -> None:
    """nginx workers run as an unprivileged user: they must be able to reach ``folder``
    (temporary folders are private by default)."""
    for part in [folder, *folder.parents]:
        mode = part.stat().st_mode
        if part.stat().st_uid == os.getuid() and not mode & 0o001:
            part.chmod(mode | 0o005)


def _get(address: str, port: int, path: str) -> bytes | None:
    try:
        with socket.create_connection((address, port), timeout=0.5) as connection:
            connection.sendall(f"GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
    except OSError:
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    return body if head.startswith(b"HTTP/1.1 200") else None
