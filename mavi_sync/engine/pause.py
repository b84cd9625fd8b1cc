"""When every upload must wait: an account that cannot upload, an API that cannot be
reached, a ledger that cannot be written. Pure state, thread-safe; the engine acts on it.

A pause lets one trial through every `probe_s` (a circuit breaker's half-open state): one
worker, not all of them, so a long outage costs a request or so per probe, whatever the
backlog. A trial is decided only by a request: a worker whose file asked the server nothing
(refused, known, unfinished) hands it back for the next one (`give_back`), and whoever runs
the trials asks the API itself when no file did (pauses.py).
"""

from __future__ import annotations

import threading
from typing import Optional

from mavi_sync.errors import Interrupted, TransientError, Unreachable

OUTAGE_PROBE_S = 5.0
OUTAGE_PROBE_MAX_S = 300.0
SILENT_FOR_OUTAGE = 3  # uploads in a row with no answer at all that make an outage


class Pause:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear = threading.Event()
        self._clear.set()
        self._trial = False  # paused, but one worker may try once
        self._probing = False  # a trial was opened and nothing has decided it yet
        self._number = 0  # of the last trial opened: a worker hands back only the one it took
        self.reason = ""
        self.detail = ""  # the error that caused it, as a person reads it
        self.since = 0.0
        self.probe_s = 60.0

    def set(self, reason: str, now: float, probe_s: float, detail: str = "") -> bool:
        """Pause (again, after a failed trial); True when this is news (log it once)."""
        with self._lock:
            news = self._clear.is_set() or reason != self.reason
            self.detail = detail or (self.detail if reason == self.reason else "")
            if self._clear.is_set() or self._probing:  # the next trial counts from now
                self.since = now
            self.reason, self.probe_s, self._trial, self._probing = reason, probe_s, False, False
            self._clear.clear()
            return news

    def trial(self, now: float) -> bool:
        """Let one worker try, when `probe_s` has passed; True if a trial was opened."""
        with self._lock:
            if self._clear.is_set() or self._trial or now - self.since < self.probe_s:
                return False
            self._trial = self._probing = True
            self._number += 1
            self.since = now
            return True

    @property
    def probing(self) -> bool:
        """A trial is open or taken, and no answer has decided it yet."""
        return self._probing

    def clear(self) -> bool:
        with self._lock:
            was_paused = not self._clear.is_set()
            self._clear.set()
            self._trial = self._probing = False
            self.reason = ""
            return was_paused

    @property
    def paused(self) -> bool:
        return not self._clear.is_set()

    def current(self) -> "tuple[str, str] | None":
        """(reason, detail) while paused, else None."""
        with self._lock:
            return None if self._clear.is_set() else (self.reason, self.detail)

    def wait(self, timeout: float) -> Optional[int]:
        """None while the caller must wait; else 0 (not paused) or the number of the trial it
        took (the one open trial: the other workers keep waiting)."""
        if self._clear.wait(timeout):
            return 0
        with self._lock:
            if self._trial:
                self._trial = False
                return self._number
        return None

    def give_back(self, number: int) -> bool:
        """The worker that took trial `number` made no request: the trial is open again for
        the next worker, unless something decided it meanwhile. True if it was reopened."""
        with self._lock:
            if number and number == self._number and self._probing and not self._clear.is_set():
                self._trial = True
                return True
            return False


class Outage:
    """Tells an outage from bad luck: a refused connection says so at once; uploads that get
    no answer at all (reset, timeout) say so when SILENT_FOR_OUTAGE come in a row. Each
    trial that fails doubles the wait before the next, from OUTAGE_PROBE_S to OUTAGE_PROBE_MAX_S."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._silent = 0
        self._trials = 0
        self.since: Optional[float] = None

    def failed(self, error: Exception, now: float) -> bool:
        """True when `error` means (or continues) an outage."""
        if not isinstance(error, TransientError) or isinstance(error, Interrupted):
            return False  # (a stop or a hold cut it off: nothing was asked of the server)
        with self._lock:
            if error.status is not None:  # the server answered: it is there
                self._silent = 0
                return False
            self._silent += 1
            if self.since is None and not isinstance(error, Unreachable) and self._silent < SILENT_FOR_OUTAGE:
                return False
            if self.since is None:
                self.since = now
            return True

    def probe_s(self) -> float:
        return min(OUTAGE_PROBE_MAX_S, OUTAGE_PROBE_S * 2 ** self._trials)

    def trial_opened(self) -> None:
        with self._lock:
            self._trials += 1

    def answered(self) -> Optional[float]:
        """An upload got through; returns when the outage began, if one just ended."""
        with self._lock:
            since, self.since = self.since, None
            self._silent = self._trials = 0
            return since
