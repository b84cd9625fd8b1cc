"""The status page's listener: the standard library's ThreadingHTTPServer, on threads of its
own (one per connection, at most MAX_CONNECTIONS, each ended by a timeout), never the
daemon's. A page that cannot be served never stops uploads: a port in use or a missing
password is logged with what to do, and the daemon goes on without its page (a port in
use is tried again every `retry_s`).

Why the standard library: the page serves a few small documents to one or two people, and
http.server does that with no dependency to install, audit or keep up to date; what it
lacks (a connection limit, request size limits, security headers) is a few lines here.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from mavi_sync.config.schema import Config, WebConfig
from mavi_sync.config.secrets import Secret, resolve_key
from mavi_sync.config.web import is_loopback, split_listen
from mavi_sync.errors import MaviSyncError
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.web.access import Access
from mavi_sync.web.app import App, Response
from mavi_sync.web.board import Board, Sources
from mavi_sync.web.sessions import Sessions

log = get_logger("mavi_sync.web")

MAX_CONNECTIONS = 16
MAX_BODY = 4096
REQUEST_TIMEOUT_S = 10.0
HEADERS = (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
           ("X-Frame-Options", "DENY"), ("Cross-Origin-Resource-Policy", "same-origin"),
           ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"))


def password_for(config: Config) -> "tuple[Optional[Secret], Optional[str]]":
    """(the password, or None for an open page on loopback; None) or (None, why the page
    cannot listen where the config says: beyond loopback, no password was found)."""
    host, _port = split_listen(config.web.listen) or ("", 0)
    if not config.web.listen:
        return None, None
    try:
        return resolve_key(config.web.password, "web page password", key_path="[web] password"), None
    except MaviSyncError as exc:
        if not is_loopback(host):
            return None, (f"[web] listen = {config.web.listen!r} serves the page beyond this box, which needs a "
                          f"password: {exc}")
        if config.web.password != WebConfig().password:  # one named, and not there: never open by mistake
            return None, f"[web] password names a password for the page, which cannot be read: {exc}"
        return None, None  # this box only, none given: open, as `mavi-sync status` is


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the listen backlog: past it, a connection's SYN waits a second to be sent again

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):  # busy: turned away at once, nothing read
            try:
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class WebServer:
    def __init__(self, config: Config, sources: Sources, *, metrics: Optional[Any] = None,
                 retry_s: float = 30.0) -> None:
        """`metrics`: the daemon's prometheus_client registry, served at /metrics too."""
        self.config, self.sources, self.registry, self.retry_s = config, sources, metrics, retry_s
        self.server: Optional[_Server] = None
        self.ledger: Optional[Ledger] = None
        self.app: Optional[App] = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._password: Optional[Secret] = None
        self._board: Optional[Board] = None

    @property
    def address(self) -> Optional[tuple[str, int]]:
        return None if self.server is None else (str(self.server.server_address[0]), int(self.server.server_address[1]))

    def start(self) -> None:
        """Listen where [web] listen says, or log why not: the daemon uploads either way."""
        listen = self.config.web.listen
        host, port = split_listen(listen) or ("127.0.0.1", 0)
        password, problem = password_for(self.config)
        if problem is not None:
            log.error("web_refused", key="web.password", value=listen, error=problem,
                      hint="Give [web] password (the credential mavi-web-password, $MAVI_WEB_PASSWORD, or "
                           "password = { file = \"…\" }), or listen on 127.0.0.1; uploads go on without the page.")
            return
        try:
            self.ledger = open_ledger(self.config)  # reads of its own: never the workers' connection
        except MaviSyncError as exc:
            log.error("web_unavailable", error=str(exc), hint="uploads go on without the page")
            return
        self._password, self._board = password, Board(self.sources, self.ledger)
        if not self._listen(host, port):
            self._spawn(self._retry, "web-retry")

    def _listen(self, host: str, port: int) -> bool:
        try:
            self.server = _Server((host, port), _handler(self))
        except OSError as exc:
            log.error("web_unavailable", key="web.listen", value=self.config.web.listen,
                      error=f"cannot listen there: {exc.strerror or exc}",
                      hint=f"Choose a free port in [web] listen; uploads go on, the port is tried again every "
                           f"{self.retry_s:g} s.")
            return False
        bound = int(self.server.server_address[1])  # (port 0: the one the system gave)
        assert self.ledger is not None and self._board is not None
        self.app = App(self._board, Access(host, bound, self._password, Sessions()), self.ledger,
                       metrics=self._metrics())
        server = self.server
        self._spawn(lambda: server.serve_forever(poll_interval=0.5), "web")
        shown = f"[{host}]:{bound}" if ":" in host else f"{host}:{bound}"
        log.info("web_listening", address=shown, url=f"http://{shown}/", loopback=is_loopback(host),
                 password=self._password is not None)
        return True

    def _retry(self) -> None:
        host, port = split_listen(self.config.web.listen) or ("127.0.0.1", 0)
        while not self._stop.wait(self.retry_s):
            if self._listen(host, port):
                return

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _metrics(self) -> Any:
        if self.registry is None:
            return None
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        registry, last = self.registry, [float("-inf"), b""]

        def scrape() -> tuple[bytes, str]:  # at most once a second, however often it is asked
            if time.monotonic() - float(last[0]) >= 1.0:
                last[:] = [time.monotonic(), generate_latest(registry)]
            return bytes(last[1]), CONTENT_TYPE_LATEST
        return scrape

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.name == "web-retry":  # first: it may be binding right now
                thread.join(5)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for thread in self._threads:
            thread.join(5)
        if self.ledger is not None:
            self.ledger.close()


def _handler(web: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version, sys_version = "mavi-sync", ""
        timeout = REQUEST_TIMEOUT_S

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self._answer(b"")

        def do_HEAD(self) -> None:  # noqa: N802 - what some monitors send to /healthz
            response = web.app.handle("GET", self.path, dict(self.headers.items()), b"", self.client_address[0]) \
                if web.app is not None else Response(503)
            self._send(response, head=True)

        def do_POST(self) -> None:  # noqa: N802
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self._send(Response(411, b"a POST needs a Content-Length"))
            elif int(length) > MAX_BODY:
                self.close_connection = True
                self._send(Response(413, f"a form of at most {MAX_BODY} bytes".encode()))
            else:
                self._answer(self.rfile.read(int(length)))

        def _answer(self, body: bytes) -> None:
            assert web.app is not None
            self._send(web.app.handle(self.command, self.path, dict(self.headers.items()), body, self.client_address[0]))

        def _send(self, response: Response, head: bool = False) -> None:
            self.send_response(response.status)
            for name, value in HEADERS + tuple(response.headers):
                self.send_header(name, value)
            self.send_header("Content-Type", response.type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if not head:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:  # requests are not logged (a search is private)
            return

    return Handler
