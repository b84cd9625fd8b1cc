"""A token bucket shared by every worker, so the account stays under its request rate.

The vendor's limits are per account, so one bucket per kind of request (uploads,
queries) is shared by all threads. When the server still says "too fast" (another
client on the same account, or a server stricter about spacing than its stated rate),
`penalize` pushes every worker's next slot back and lowers the pace by 10 % (never below
half the configured rate); each accepted request (`reward`) wins back 1 % of it. This is
additive-increase / multiplicative-decrease, as TCP does: the client settles just under
what the server really accepts instead of bouncing off it.

A slot is reserved before the caller sleeps, and a sleep can overrun: the host stalls,
or another thread holds the GIL. Requests whose slots have passed then leave together
and use up the server's burst, and the next slot (the bucket forgives time it was not
used) would follow them at once, or one interval after the last: a refusal, or one at
the mercy of a millisecond of network jitter. So `sent` keeps a second account, of when
requests really left (the server's own reckoning, arrival being departure plus a
latency), and no slot is given before that account allows.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional


class RateLimiter:
    """`rate` requests per second on average, at most `burst` at once."""

    def __init__(self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.ceiling = rate  # the configured rate: never exceeded
        self.rate = rate  # the current pace: lowered by refusals, won back by successes
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        # GCRA: the theoretical arrival time of the next request.
        self._tat = clock()
        self._sent_tat = self._tat  # the same, counted from when requests really left
        self.waited_s = 0.0  # total time callers spent waiting (a metric)
        self.waits = 0

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def reserve(self) -> float:
        """Take a slot; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            allowed_at = tat - (self.burst - 1) * self.interval
            delay = max(0.0, allowed_at - now)
            self._tat = tat + self.interval
            if delay > 0:
                self.waits += 1
                self.waited_s += delay
            return delay

    def acquire(self, stop: Optional[threading.Event] = None, *, leaves_now: bool = True) -> bool:
        """Block until a slot is ours; False when `stop` was set while waiting (slot returned).
        `leaves_now=False`: the caller calls `sent` itself, when the request really leaves."""
        delay = self.reserve()
        if delay > 0:
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):
                with self._lock:
                    self._tat -= self.interval  # give the unused slot back
                return False
        if leaves_now:
            self.sent()
        return True

    def sent(self) -> None:
        """A request leaves now, whatever slot it had (a no-op when it left on time)."""
        with self._lock:
            self._sent_tat = max(self._sent_tat, self._clock()) + self.interval
            self._tat = max(self._tat, self._sent_tat)

    def penalize(self, wait_s: float) -> None:
        """The server said "too fast": nobody sends for `wait_s` seconds, then a slower pace."""
        with self._lock:
            self._tat = max(self._tat, self._clock() + wait_s)
            self.rate = max(self.ceiling * 0.5, self.rate * 0.9)

    def reward(self) -> None:
        """The server accepted a request: win back a little of the pace, up to the ceiling."""
        if self.rate < self.ceiling:
            with self._lock:
                self.rate = min(self.ceiling, self.rate + self.ceiling * 0.01)
