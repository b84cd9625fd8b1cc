"""The status page's routes: one request in, one response out, no sockets (server.py has
those). Reads come from the board's document, at most a second old; actions go through
access.py's checks, then actions.py.

    GET  /                 the page (with a password and without a session: the login form)
    GET  /fragment         its live regions (page.js swaps them in)
    GET  /api/v1/status    the document `mavi-sync status --json` prints
    GET  /api/v1/page      everything the page shows, as JSON
    GET  /healthz          200 or 503 and a few bytes (health.py); open to anyone who reaches the port
    GET  /metrics          Prometheus' text, when [metrics] is on
    POST /login            the password (required beyond loopback)
    POST /action/NAME      pause, resume, retry (actions.py)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional
from urllib.parse import parse_qs, urlsplit

from mavi_sync.errors import MaviSyncError
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.web.assets import CSS, JS
from mavi_sync.web.page import captions, fragment, page
from mavi_sync.web.access import Access, Refused, Request
from mavi_sync.web.actions import BadAction, act
from mavi_sync.web.board import Board
from mavi_sync.web.health import health

log = get_logger("mavi_sync.web")

MAX_TARGET = 2048  # a request's path and query, in characters
MAX_QUERY = 200  # the caption search
HTML, JSON, TEXT = "text/html; charset=utf-8", "application/json", "text/plain; charset=utf-8"
STATIC = {"/static/page.css": (CSS, "text/css; charset=utf-8"), "/static/page.js": (JS, "text/javascript; charset=utf-8")}


@dataclass
class Response:
    status: int
    body: bytes = b""
    type: str = TEXT
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json(status: int, data: Any, headers: Optional[list[tuple[str, str]]] = None) -> Response:
    # ensure_ascii: a file name's undecodable bytes (kept as surrogates) become \\udcXX escapes
    return Response(status, json.dumps(data, ensure_ascii=True).encode(), JSON, headers or [])


class App:
    def __init__(self, board: Board, access: Access, ledger: Ledger, *,
                 metrics: Optional[Callable[[], tuple[bytes, str]]] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.board, self.access, self.ledger, self.metrics, self.clock = board, access, ledger, metrics, clock
        self._cache: dict[tuple[float, str, str], bytes] = {}
        self._lock = threading.Lock()

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes, client: str) -> Response:
        """The response to one request; never raises."""
        req = Request(method, {k.lower(): v for k, v in headers.items()})
        wants_json = "application/json" in req.headers.get("accept", "")
        url = urlsplit(target[:MAX_TARGET])
        try:
            if len(target) > MAX_TARGET:
                raise Refused(414, f"the request's address is longer than {MAX_TARGET} characters")
            return self._route(req, url.path, _fields(url.query), body, client)
        except Refused as r:
            if r.status in (401, 429) and not wants_json and url.path in ("/", "/login"):  # the form, and why
                told = r.reason if method == "POST" else ""
                return Response(r.status if told else 200, page({}, "", told, login=True).encode(), HTML)
            extra = [("WWW-Authenticate", 'Basic realm="mavi-sync"')] if r.status == 401 else []
            extra += [("Allow", "POST")] if r.status == 405 else []
            return _json(r.status, {"ok": False, "message": r.reason}, extra)
        except MaviSyncError as exc:  # the ledger, mostly: the page says so, the daemon goes on
            log.error("web_request_failed", path=url.path, error=str(exc), error_type=exc.__class__.__name__)
            return _json(503, {"ok": False, "message": str(exc)})
        except Exception as exc:  # a bug: said once in the log, never a traceback to the browser
            log.error("web_request_crashed", path=url.path, error=repr(exc), error_type=exc.__class__.__name__,
                      hint="This is a bug in mavi-sync; the daemon goes on. Please report it.")
            return _json(500, {"ok": False, "message": "the page failed; the daemon's log says why"})

    def _route(self, req: Request, path: str, query: Mapping[str, str], body: bytes, client: str) -> Response:
        if path == "/healthz" and req.method == "GET":
            status, data = health(self.board.document())
            return _json(status, data)
        if path in STATIC and req.method == "GET":
            text, kind = STATIC[path]
            return Response(200, text.encode(), kind)
        self.access.check_host(req)
        if path.startswith("/action/"):
            return self._action(req, path.removeprefix("/action/"), _fields(body.decode("utf-8", "replace")), client)
        if path == "/login" and req.method == "POST":
            token = self.access.login(req, _fields(body.decode("utf-8", "replace")).get("password", ""))
            return Response(303, b"", TEXT, [("Location", "/"), ("Set-Cookie", self.access.set_cookie(token))])
        if req.method != "GET":
            raise Refused(405 if path in ("/", "/login") else 404, f"no {req.method} {path} here")
        if not self.access.may_read(req):
            raise Refused(401, "log in first: this page needs its password")
        search = query.get("q", "")
        if len(search) > MAX_QUERY:
            raise Refused(414, f"a search of at most {MAX_QUERY} characters")
        if path in ("/", "/login"):
            return self._page(req, search)
        if path == "/fragment":
            return Response(200, self._rendered("fragment", search), HTML)
        if path == "/api/v1/status":
            doc = self.board.document()
            return _json(503, {"ok": False, "message": doc["error"]}) if "error" in doc else \
                Response(200, self._rendered("status", ""), JSON)
        if path == "/api/v1/page":
            return Response(200, self._rendered("page", ""), JSON)
        if path == "/metrics" and self.metrics is not None:
            data, kind = self.metrics()
            return Response(200, data, kind)
        raise Refused(404, f"nothing at {path}" + (" (metrics are off: [metrics] port = 0)" if path == "/metrics" else ""))

    def _rendered(self, kind: str, search: str) -> bytes:
        """The document rendered once per build (and search): a page polled by many costs one rendering."""
        doc = self.board.document()
        key = (doc["generated_at"], kind, search)
        with self._lock:
            body = self._cache.get(key)
            if body is not None:
                return body
            if len(self._cache) > 16 or any(k[0] != key[0] for k in self._cache):
                self._cache.clear()
            body = self._cache[key] = (
                (f'<main id="live" data-live>{fragment(doc)}</main>'
                 f'<div id="caption-results" data-live>{captions(doc, search)}</div>').encode() if kind == "fragment"
                else json.dumps(doc["status"] if kind == "status" else doc, ensure_ascii=True).encode())
        return body

    def _page(self, req: Request, search: str) -> Response:
        """The page; a browser allowed to read it without a session is given one (the cookie alone holds it)."""
        token = self.access.token(req)
        headers = []
        if self.access.sessions.get(token) is None:
            token = self.access.sessions.new()
            headers.append(("Set-Cookie", self.access.set_cookie(token)))
        flash = self.access.sessions.take_flash(token)
        return Response(200, page(self.board.document(), search, flash).encode(), HTML, headers)

    def _action(self, req: Request, name: str, form: Mapping[str, str], client: str) -> Response:
        self.access.act(req)  # checked, and its token spent: the next one goes back with the answer
        try:
            message, ok, status = act(name, form, self.ledger, f"the web page ({client})", self.clock()), True, 200
            log.info("web_action", action=name, result=message, client=client)
        except BadAction as exc:
            message, ok, status = exc.reason, False, exc.status
        wants_json = "application/json" in req.headers.get("accept", "")
        token = self.access.sessions.new(flash="" if wants_json else message)
        cookie = ("Set-Cookie", self.access.set_cookie(token))
        if wants_json:
            return _json(status, {"ok": ok, "message": message}, [cookie])
        return Response(303, b"", TEXT, [("Location", "/"), cookie])  # the next page shows the answer once


def _fields(text: str) -> dict[str, str]:
    """A query or form's fields (the first of each); 400 for more than a few."""
    try:
        parsed = parse_qs(text, max_num_fields=10)
    except ValueError:
        raise Refused(400, "too many fields") from None
    return {k: v[0] for k, v in parsed.items()}
