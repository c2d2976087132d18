"""A real HTTP server that serves several outlets, each on its own loopback address, on one port.

Stdlib only (``http.server`` threads), so tests, benchmarks and ``newsmon demo`` need nothing
extra. Every request is logged, so a test can prove that a URL (say, one disallowed by robots.txt)
was never fetched.
"""

from __future__ import annotations

import errno
import gzip
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

_BIND_ATTEMPTS = 25
_GZIP_MIN_SIZE = 512
_COMPRESSIBLE = (
    "text/",
    "application/xml",
    "application/rss",
    "application/atom",
    "application/json",
)


@dataclass
class Route:
    """One response: what a path answers."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestInfo:
    """What a dynamic handler is told about the request; header names are lower-case."""

    address: str
    port: int
    method: str
    path: str
    headers: dict[str, str]

    @property
    def base_url(self) -> str:
        """``http://<address>:<port>`` of the outlet that received the request."""
        return f"http://{self.address}:{self.port}"

    @property
    def path_only(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path or "/"


@dataclass(frozen=True)
class RequestLog:
    """One request served, as recorded in :attr:`OutletServer.requests`."""

    address: str
    method: str
    path: str
    headers: dict[str, str]
    status: int
    time: float

    def url(self, port: int) -> str:
        return f"http://{self.address}:{port}{self.path}"


Handler = Route | Callable[[RequestInfo], Route]


@dataclass
class Site:
    """An outlet: an address and what each path (with its query string) answers."""

    name: str
    address: str
    routes: dict[str, Handler] = field(default_factory=dict)
    default: Handler | None = None

    def handler_for(self, path: str) -> Handler | None:
        """Exact path-and-query match, else the path alone (query ignored, as most sites do)."""
        if path in self.routes:
            return self.routes[path]
        bare = urlsplit(path).path or "/"
        return self.routes.get(bare, self.default)


def not_found(request: RequestInfo) -> Route:
    """The 404 page served for unknown paths when a site has no default handler."""
    body = (
        b"<!DOCTYPE html><html><head><title>Not found</title></head>"
        b"<body><h1>404 Not Found</h1><p>No page here.</p></body></html>"
    )
    return Route(body=body, status=404)


class _OutletHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, site: Site, port: int, owner: OutletServer) -> None:
        self.site = site
        self.owner = owner
        super().__init__((site.address, port), _OutletRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response are normal for crawlers; never spam stderr.
        logger.debug("error while serving %s for %s", client_address, self.site.name, exc_info=True)


class _OutletRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "newsmon-demo/1"
    timeout = 30
    server: _OutletHTTPServer

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def do_POST(self) -> None:
        self._send(Route(b"", status=405, headers={"Allow": "GET, HEAD"}), send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.server.site.address, format % args)

    def _respond(self, send_body: bool) -> None:
        request = RequestInfo(
            address=self.server.site.address,
            port=self.server.server_address[1],
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
        )
        route = _resolve(self.server.site, request)
        route = _conditional(route, request.headers)
        if send_body:
            route = _maybe_gzip(route, request.headers)
        # Logged before answering, so a client that got its response always finds it in the log.
        self.server.owner._record(request, route.status)
        self._send(route, send_body)

    def _send(self, route: Route, send_body: bool) -> None:
        self.send_response(route.status)
        if route.status != 304:
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and route.status != 304:
            self.wfile.write(route.body)


def _resolve(site: Site, request: RequestInfo) -> Route:
    handler = site.handler_for(request.path) or not_found
    if isinstance(handler, Route):
        return handler
    try:
        return handler(request)
    except Exception:  # a broken handler is a test bug: answer 500 and log it once
        logger.exception("handler for %s%s failed", request.base_url, request.path)
        return Route(b"handler failed", content_type="text/plain", status=500)


def _conditional(route: Route, headers: dict[str, str]) -> Route:
    """Answer 304 when the client's validators still match (If-None-Match wins over the date)."""
    if route.status != 200:
        return route
    etag = _header(route, "ETag")
    last_modified = _header(route, "Last-Modified")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if etag and _etag_matches(if_none_match, etag):
            return _not_modified(route)
        return route
    since = headers.get("if-modified-since")
    if since and last_modified and _not_newer(last_modified, since):
        return _not_modified(route)
    return route


def _etag_matches(if_none_match: str, etag: str) -> bool:
    wanted = _weak(etag)
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(_weak(tag) == wanted for tag in tags)


def _weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _not_newer(last_modified: str, since: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _not_modified(route: Route) -> Route:
    kept = {k: v for k, v in route.headers.items() if k.lower() in {"etag", "last-modified"}}
    return Route(b"", content_type=route.content_type, status=304, headers=kept)


def _maybe_gzip(route: Route, headers: dict[str, str]) -> Route:
    accepts = headers.get("accept-encoding", "").lower()
    if (
        "gzip" not in accepts
        or len(route.body) < _GZIP_MIN_SIZE
        or not route.content_type.startswith(_COMPRESSIBLE)
        or _header(route, "Content-Encoding")
    ):
        return route
    out = {
        # a different representation must not share a strong validator (nginx does the same)
        name: f"W/{value}" if name.lower() == "etag" and not value.startswith("W/") else value
        for name, value in route.headers.items()
    }
    out |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    body = gzip.compress(route.body, compresslevel=5, mtime=0)
    return Route(body, content_type=route.content_type, status=route.status, headers=out)


def _header(route: Route, name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in route.headers.items() if k.lower() == wanted), None)


class OutletServer:
    """Serve every :class:`Site` on its own address, all on one port. Use as a context manager.

    Args:
        sites: the outlets; addresses must be distinct loopback addresses (``127.0.0.2``, ...).
        port: the shared port; 0 picks a free one (bound on the first address, then reused).
        refused: addresses where the port is held but never listened on, so connecting there is
            refused (an outlet that is down), and nothing else can take that port meanwhile.
    """

    def __init__(self, sites: list[Site], port: int = 0, refused: Sequence[str] = ()) -> None:
        _check_addresses([s.address for s in sites], refused)
        self.sites = list(sites)
        self.port = port
        self._requested_port = port
        self._refused_addresses = list(refused)
        self._servers: list[_OutletHTTPServer] = []
        self._held: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._log: list[RequestLog] = []
        self._lock = threading.Lock()

    def __enter__(self) -> OutletServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._servers)

    @property
    def requests(self) -> list[RequestLog]:
        """A snapshot of every request served so far, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def requested_urls(self) -> list[str]:
        """Every URL requested so far (``http://address:port/path?query``), oldest first."""
        return [entry.url(self.port) for entry in self.requests]

    def site(self, name: str) -> Site:
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(f"no site named {name!r}")

    def base_url(self, site_name: str) -> str:
        """``http://127.0.0.x:PORT`` of the named site."""
        if not self.port:
            raise RuntimeError("OutletServer was never started: the port is not known yet")
        return f"http://{self.site(site_name).address}:{self.port}"

    def url(self, site_name: str, path: str) -> str:
        return self.base_url(site_name) + path

    def start(self) -> None:
        if self.running:
            return
        self._servers, self._held, self.port = self._bind_all()
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"outlet-{server.site.address}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        logger.debug("serving %d outlets on port %d", len(self._servers), self.port)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in self._held:
            sock.close()
        self._servers, self._held, self._threads = [], [], []

    def _bind_all(self) -> tuple[list[_OutletHTTPServer], list[socket.socket], int]:
        attempts = 1 if self._requested_port else _BIND_ATTEMPTS
        for attempt in range(attempts):
            try:
                return self._bind_once()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                logger.debug("port collision, retrying (%s)", exc)
        raise AssertionError("unreachable")

    def _bind_once(self) -> tuple[list[_OutletHTTPServer], list[socket.socket], int]:
        servers: list[_OutletHTTPServer] = []
        held: list[socket.socket] = []
        port = self._requested_port
        try:
            for site in self.sites:
                servers.append(_OutletHTTPServer(site, port, self))
                port = servers[0].server_address[1]
            for address in self._refused_addresses:
                held.append(_hold_port(address, port))
        except OSError:
            _close_all(servers, held)
            raise
        return servers, held, port

    def _record(self, request: RequestInfo, status: int) -> None:
        entry = RequestLog(
            address=request.address,
            method=request.method,
            path=request.path,
            headers=request.headers,
            status=status,
            time=time.time(),
        )
        with self._lock:
            self._log.append(entry)


def _hold_port(address: str, port: int) -> socket.socket:
    """Bind without listening: the port is ours, and every connection attempt is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def _close_all(servers: Iterable[_OutletHTTPServer], held: Iterable[socket.socket]) -> None:
    for server in servers:
        server.server_close()
    for sock in held:
        sock.close()


def _check_addresses(addresses: list[str], refused: Sequence[str]) -> None:
    everything = [*addresses, *refused]
    if len(set(everything)) != len(everything):
        raise ValueError(f"outlet addresses must be distinct: {everything}")
    outside = [a for a in everything if not a.startswith("127.")]
    if outside:
        raise ValueError(f"outlets must live on loopback (127.0.0.0/8), not {outside}")
