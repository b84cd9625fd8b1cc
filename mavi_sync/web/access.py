"""Who may read the status page and who may act on it, decided per request from its
headers. The one place these rules live; the server only asks.

- On loopback without a password the page is open to whoever is on the box, and a request
  must name this listener in its Host header (127.0.0.1:PORT, localhost:PORT, [::1]:PORT):
  a site that points its own name at 127.0.0.1 (DNS rebinding) can make a visitor's
  browser connect here, but not read the page.
- With a password (required beyond loopback; on loopback when one is given, e.g. behind a
  reverse proxy on the same box), reading needs a session (the login form) or the password
  in HTTP Basic (for scripts and Prometheus); acting always needs a session.
- An action is a POST of a form from this page: Sec-Fetch-Site same-origin when the browser
  sends it, an Origin naming this host, and the session's token, spent by the action
  (sessions.py). Cross-site, the browser sends no cookie (SameSite=Strict) anyway.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Mapping, Optional
from urllib.parse import urlsplit

from mavi_sync.config.secrets import Secret
from mavi_sync.config.web import is_loopback
from mavi_sync.web.sessions import Session, Sessions

WRONG_PASSWORDS = 10  # per minute, from anywhere: then every try waits
FORM = "application/x-www-form-urlencoded"


class Refused(Exception):
    """The request may not do this: the HTTP status, and the reason as a person reads it."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Request:
    method: str
    headers: Mapping[str, str]  # names in lower case


class Access:
    def __init__(self, host: str, port: int, password: Optional[Secret], sessions: Sessions, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.open = is_loopback(host) and password is None  # no password: whoever is on the box
        self.port, self.password, self.sessions, self.clock = port, password, sessions, clock
        self.cookie = f"mavi_sync_web_{port}"  # two daemons on one box keep their own
        names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
        self._hosts = {f"{name}:{port}" for name in names}
        self._wrong: deque[float] = deque()
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------
    def check_host(self, req: Request) -> None:
        """On an open page, the Host header must name this listener."""
        if self.open and req.headers.get("host", "").lower() not in self._hosts:
            raise Refused(421, f"this page answers to http://127.0.0.1:{self.port}/ only "
                               f"(Host {req.headers.get('host', '(none)')!r} is not this listener)")

    def token(self, req: Request) -> Optional[str]:
        """This listener's session cookie, as the request carries it."""
        for part in req.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie and value:
                return value
        return None

    def may_read(self, req: Request) -> bool:
        """An open page: anyone on the box. Else: a session, or the password (HTTP Basic)."""
        if self.open or self.sessions.get(self.token(req)) is not None:
            return True
        scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            given = ""
        self._check_password(given)
        return True

    # -- acting ------------------------------------------------------------------------
    def from_this_page(self, req: Request) -> None:
        """A POST of a form from this page, not from another site."""
        if req.method != "POST":
            raise Refused(405, "actions are POST requests")
        site = req.headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            raise Refused(403, f"a request from another site (Sec-Fetch-Site: {site}) cannot act here")
        origin = req.headers.get("origin")
        if origin is None and site is None:
            raise Refused(403, "no Origin header: actions come from the page itself")
        if origin is not None and urlsplit(origin).netloc.lower() != req.headers.get("host", "").lower():
            raise Refused(403, f"a request from {origin} cannot act here")
        if req.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            raise Refused(415, f"an action is a form ({FORM})")

    def act(self, req: Request) -> Session:
        """Check an action and spend its session's token; raises Refused."""
        self.from_this_page(req)
        session = self.sessions.spend(self.token(req))
        if session is None:
            raise Refused(403, "no valid session: this action was already done, or the page is old; "
                               "reload the page" + ("" if self.open else " (and log in)"))
        return session

    def login(self, req: Request, given: str) -> str:
        """A new session's token for the right password; raises Refused."""
        self.from_this_page(req)
        self._check_password(given)
        return self.sessions.new()

    def _check_password(self, given: str) -> None:
        with self._lock:
            now = self.clock()
            while self._wrong and now - self._wrong[0] > 60:
                self._wrong.popleft()
            if len(self._wrong) >= WRONG_PASSWORDS:
                raise Refused(429, "too many wrong passwords: try again in a minute")
            expected = self.password.reveal() if self.password is not None else None
            if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
                self._wrong.append(now)
                raise Refused(401, "wrong password")

    def set_cookie(self, token: str) -> str:
        """The Set-Cookie value for `token`: never readable by the page, never sent cross-site."""
        return f"{self.cookie}={token}; Path=/; HttpOnly; SameSite=Strict"
