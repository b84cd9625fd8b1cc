"""The byte-rate cap on upload bodies, shared by every worker, and the hold that stops
them (outside an upload window, a pause by hand).

A token bucket refilled at `rate` bytes/s, holding at most a quarter second of it: each read
of a body takes its bytes first, so N workers share the rate between them and a big file is
sent at the rate, not in bursts. Reads are cut to one slice (a tenth of a second of the
rate, 16 KiB to 1 MiB) so that a slow cap still sends steadily; a read that must wait waits
for a quarter second's worth, so the thread wakes about four times a second, not once per
read (each wake costs CPU). Only request bodies pass through here: status checks and
lookups are never capped.

A hold raises `Held` in the read: the request is cut off (the server stores nothing), and
the file's attempt is given back (outcome.py) to be sent again once uploads may go.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

from mavi_sync.errors import Held, Interrupted

SLICE_S = 0.1
REFILL_S = 0.25
MIN_SLICE = 16 << 10
MAX_SLICE = 1 << 20
WAIT_STEP_S = 0.5  # a wait for tokens wakes this often to see a stop
# A read may go when the bucket holds all but this share of its bytes (the rest is owed:
# the bucket goes that far below zero and the next read waits for it), and a wait lasts a
# millisecond past its due time: a timed wait that wakes a hair early must not come round
# again for a few bytes (each wake costs CPU).
SHORT_SHARE = 0.02
WAKE_LATE_S = 0.001


class Throttle:
    """Thread-safe. `set` changes the rate or the hold at any time, also mid-upload."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self.rate: Optional[float] = None  # bytes/s; None = no cap
        self.held: Optional[str] = None  # why nothing may be sent now
        self._tokens = 0.0
        self._at = clock()

    def set(self, rate: Optional[float], held: Optional[str]) -> None:
        with self._cond:
            self._refill()
            self.rate, self.held = rate, held
            self._tokens = min(self._tokens, self._capacity())
            self._cond.notify_all()

    def slice(self, wanted: int) -> int:
        """How much one read may take: all it wants uncapped, else one slice of the rate."""
        rate = self.rate
        if rate is None:
            return wanted
        return max(1, min(wanted, max(MIN_SLICE, min(MAX_SLICE, int(rate * SLICE_S)))))

    def _capacity(self) -> float:
        return max(float(self.slice(MAX_SLICE)), (self.rate or 0.0) * REFILL_S)

    def _refill(self) -> None:
        now = self._clock()
        if self.rate is not None:
            self._tokens = min(self._capacity(), self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self, n: int, stop: threading.Event) -> None:
        """Wait until `n` bytes may leave; raise Held when uploads must stop, Interrupted on a stop."""
        with self._cond:
            while True:
                if self.held is not None:
                    raise Held(f"upload stopped: {self.held}")
                if stop.is_set():
                    raise Interrupted("upload stopped: the daemon is stopping")
                if self.rate is None:
                    return
                self._refill()
                if self._tokens >= n * (1 - SHORT_SHARE):
                    self._tokens -= n
                    return
                want = min(self._capacity(), max(float(n), self.rate * REFILL_S))
                self._cond.wait(min(WAIT_STEP_S, (want - self._tokens) / self.rate + WAKE_LATE_S))


class Throttled:
    """A request body read through a Throttle: what requests is given as `data`."""

    def __init__(self, stream: Any, throttle: Throttle, stop: threading.Event) -> None:
        self._stream = stream
        self._throttle = throttle
        self._stop = stop

    @property
    def len(self) -> int:  # requests reads it for the Content-Length (the bytes still to read)
        return int(self._stream.len)

    def read(self, n: int = -1) -> bytes:
        # What is left to read (a monitor's `len` is the whole body): the last read takes
        # only its own bytes, and the empty read that ends the body takes none.
        left = self.len - int(getattr(self._stream, "bytes_read", 0))
        if left <= 0:
            return bytes(self._stream.read(0))
        wanted = min(n if n is not None and n > 0 else MAX_SLICE, left)
        size = self._throttle.slice(wanted)
        self._throttle.take(size, self._stop)
        return bytes(self._stream.read(size))
