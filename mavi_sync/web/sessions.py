"""Browser sessions of the status page: who may act.

A session is an unguessable token that travels only in a cookie the page's scripts cannot
read (HttpOnly) and that browsers send only from this site (SameSite=Strict). No page and
no JSON answer holds it, so a copy of either gives nobody anything. An action uses its
token up and hands out the next one: the same request sent again (replayed from a log, a
proxy or a browser's history) is refused. Kept in memory, bounded; a restart ends every
session (a loopback page simply gets a new one).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

MAX_SESSIONS = 64  # the oldest is dropped past this (a script opening sessions cannot grow memory)
IDLE_S = 12 * 3600.0


@dataclass
class Session:
    seen: float
    flash: str = ""  # the last action's answer, shown once by the next page (without JavaScript)


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._live: "OrderedDict[bytes, Session]" = OrderedDict()  # by the token's hash, oldest first

    def new(self, flash: str = "") -> str:
        """A fresh token (for the cookie alone)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._live[_key(token)] = Session(self.clock(), flash)
            while len(self._live) > MAX_SESSIONS:
                self._live.popitem(last=False)
        return token

    def get(self, token: Optional[str]) -> Optional[Session]:
        """The live session of `token` (its idle time starts again), or None."""
        if not token:
            return None
        with self._lock:
            key = _key(token)
            session = self._live.get(key)
            if session is None or self.clock() - session.seen > IDLE_S:
                self._live.pop(key, None)
                return None
            session.seen = self.clock()
            self._live.move_to_end(key)
            return session

    def spend(self, token: Optional[str]) -> Optional[Session]:
        """Use `token` up for one action: its session, now without a token (give it the
        next with `new`), or None when the token is unknown, spent or expired."""
        session = self.get(token)
        if session is None or token is None:
            return None
        with self._lock:
            return self._live.pop(_key(token), None)

    def take_flash(self, token: Optional[str]) -> str:
        session = self.get(token)
        if session is None:
            return ""
        flash, session.flash = session.flash, ""
        return flash


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()
