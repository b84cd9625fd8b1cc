"""One rate budget for the account, kept in the fleet's PostgreSQL: every node takes its
upload and query slots from the same row, so N nodes together stay under the account's
limit (the vendor's limits are per account, across every key and box).

The same GCRA as api/ratelimit.py, with its state in a row (`rate_budget`) locked for the
moment a slot is taken (`SELECT … FOR UPDATE`), and the database's clock for "now", so nodes
whose clocks disagree still agree on slots. A refusal slows the whole fleet down, a success
wins a little back: the AIMD pace is shared too. A node sleeps for its slot on its own.

When the database cannot be reached, the node goes on with a local budget of its fair share
(the account's rate divided by the nodes seen alive, counted again every FAIR_SHARE_S) and
tries the database again every RETRY_S: uploads never stop for it, and nothing needs
reconciling. Nodes come back at different times (each tries again on its own clock, and a
try can take CONNECT_TIMEOUT_S to fail), and a node back on the shared row while another
still paces on its local share would take the whole rate beside that share: so for
HANDOVER_S after its return a node keeps to its local share too (each slot waits for both).
By then every node has tried again, and the shared row holds everyone's slots.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from mavi_sync.api.ratelimit import RateLimiter
from mavi_sync.errors import FleetUnavailable
from mavi_sync.fleet.db import CONNECT_TIMEOUT_S, NOW, FleetDatabase
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.fleet")
RETRY_S = 5.0
# Every other node has tried the database again by then: its last failed try took up to
# CONNECT_TIMEOUT_S, the next comes RETRY_S later; a second's margin for each.
HANDOVER_S = RETRY_S + CONNECT_TIMEOUT_S + 2.0
FAIR_SHARE_S = 30.0  # how often the fair share is counted again (nodes join and leave)
_FAILED = object()  # what _shared returns when the database did not answer
ALIVE_S = 60.0  # a node seen this recently counts for the fair share


class SharedLimiter:
    """A RateLimiter (same methods and metrics) whose state is the fleet's row `kind`."""

    def __init__(self, db: FleetDatabase, kind: str, rate: float, burst: int = 1, *,
                 clock: Callable[[], float] = time.monotonic, retry_s: float = RETRY_S) -> None:
        self.db = db
        self.kind = kind
        self.ceiling = rate
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self.local = RateLimiter(rate, burst, clock=clock)  # the fallback, at the fair share
        self.retry_s = retry_s
        self._down_until = 0.0  # no try of the database before then
        self._local = False  # pacing on the local share since the last failure
        self._handover_until = 0.0  # back on the shared row, and on the local share too until then
        self._shared_at = 0.0  # when the fair share was last counted
        self._lock = threading.Lock()
        self.waited_s = 0.0
        self.waits = 0
        self._ready = False

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def shared(self) -> bool:
        return not self._local

    @property
    def next_try_s(self) -> float:
        """Seconds until the database is tried again (0 while it answers)."""
        return max(0.0, self._down_until - self._clock())

    # -- the database side ------------------------------------------------------------------
    def _shared(self, op: Callable[[], object]) -> object:
        """Run `op` on the database; _FAILED (and the local budget for retry_s) when it fails."""
        if self._clock() < self._down_until:
            return _FAILED
        try:
            if not self._ready:
                self._install()
            elif self._clock() - self._shared_at >= FAIR_SHARE_S:
                self.fair_share()
            result = op()
        except FleetUnavailable as exc:
            with self._lock:
                news, self._local = not self._local, True
                self._down_until = self._clock() + self.retry_s
            if news:
                log.warning("fleet_budget_local", kind=self.kind, error=str(exc), rate_per_s=round(self.local.rate, 3),
                            hint="this node paces itself at its share of the account's rate until the database is back")
            return _FAILED
        if self._local:
            with self._lock:
                back, self._local = self._local, False
                self._handover_until = self._clock() + HANDOVER_S
            if back:
                log.info("fleet_budget_shared", kind=self.kind, local_share_s=HANDOVER_S)
        return result

    def _install(self) -> None:
        """The budget's row (the last node to start sets the ceiling), and the fair share."""
        self.db.ensure_schema()
        with self.db.transaction() as cur:
            cur.execute(f"INSERT INTO rate_budget (kind, tat, sent_tat, rate, ceiling, burst) VALUES "
                        f"(%s, {NOW}, {NOW}, %s, %s, %s) ON CONFLICT (kind) DO UPDATE SET ceiling = excluded.ceiling, "
                        "burst = excluded.burst, rate = LEAST(rate_budget.rate, excluded.ceiling)",
                        (self.kind, self.ceiling, self.ceiling, self.burst))
        self._ready = True
        self.fair_share()

    def fair_share(self) -> None:
        """Set the local fallback to the account's rate divided by the nodes alive now."""
        with self.db.transaction() as cur:
            cur.execute(f"SELECT COUNT(*) FROM nodes WHERE seen_at > {NOW} - %s", (ALIVE_S,))
            row = cur.fetchone()
        nodes = max(1, int(row[0]) if row else 1)
        self.local.ceiling = self.local.rate = self.ceiling / nodes
        self._shared_at = self._clock()

    def _reserve_shared(self) -> float:
        with self.db.transaction() as cur:
            cur.execute(f"SELECT tat, rate, burst, {NOW} FROM rate_budget WHERE kind = %s FOR UPDATE", (self.kind,))
            row = cur.fetchone()
            if row is None:
                raise FleetUnavailable(f"the fleet database lost its rate_budget row {self.kind!r}")
            tat, rate, burst, now = (float(row[0]), float(row[1]), int(row[2]), float(row[3]))
            interval = 1.0 / rate
            tat = max(tat, now)
            delay = max(0.0, tat - (burst - 1) * interval - now)
            cur.execute("UPDATE rate_budget SET tat = %s WHERE kind = %s", (tat + interval, self.kind))
        self.rate = rate
        return delay

    # -- RateLimiter's interface ----------------------------------------------------------------
    def reserve(self) -> float:
        shared = self._shared(self._reserve_shared)
        if shared is _FAILED:
            delay = self.local.reserve()
        elif self._clock() < self._handover_until:  # others may still pace on their local shares
            delay = max(float(shared), self.local.reserve())  # type: ignore[arg-type]
        else:
            delay = float(shared)  # type: ignore[arg-type]
        if delay > 0:
            self.waits += 1
            self.waited_s += delay
        return delay

    def acquire(self, stop: Optional[threading.Event] = None, *, leaves_now: bool = True) -> bool:
        delay = self.reserve()
        if delay > 0:
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):
                self._shared(lambda: self._update("tat = tat - 1.0 / rate"))  # the unused slot back
                return False
        if leaves_now:
            self.sent()
        return True

    def _update(self, assignments: str, *args: object) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"UPDATE rate_budget SET {assignments} WHERE kind = %s", (*args, self.kind))

    def sent(self) -> None:
        """A request leaves now: no slot is given before the fleet's account of departures allows."""
        shared = self._shared(lambda: self._update(
            f"sent_tat = GREATEST(sent_tat, {NOW}) + 1.0 / rate, "
            f"tat = GREATEST(tat, GREATEST(sent_tat, {NOW}) + 1.0 / rate)"))
        if shared is _FAILED or self._clock() < self._handover_until:  # the local share's own account too
            self.local.sent()

    def penalize(self, wait_s: float) -> None:
        """The server said "too fast": nobody in the fleet sends for `wait_s`, then all go slower."""
        self.local.penalize(wait_s)
        self._shared(lambda: self._update(f"tat = GREATEST(tat, {NOW} + %s), rate = GREATEST(ceiling * 0.5, rate * 0.9)",
                                          wait_s))

    def reward(self) -> None:
        self.local.reward()
        if self.rate < self.ceiling:
            self._shared(lambda: self._update("rate = LEAST(ceiling, rate + ceiling * 0.01)"))
