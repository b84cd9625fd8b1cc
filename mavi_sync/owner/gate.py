"""Whether uploads may go now, and how fast: the [bandwidth] timetable and windows, and a
pause by hand (`mavi-sync pause`). One owner: the daemon's Gate applies the answer to the
shared byte throttle and to the workers; `status` reads what it recorded.

A pause by hand lives in the ledger's daemon table (hand_paused_by/_at/_until), written by
the CLI, so it reaches a daemon run by another user (systemd's dynamic user, from a root
shell), survives a restart, and is read by `status` whether the daemon runs or not.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from mavi_sync.api.throttle import Throttle
from mavi_sync.config.schema import BandwidthConfig
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.owner.timetable import human_rate, next_boundary, week_second

log = get_logger("mavi_sync.owner.gate")
HAND_KEYS = ("hand_paused_by", "hand_paused_at", "hand_paused_until")


@dataclass(frozen=True)
class HandPause:
    by: str
    at: float
    until: Optional[float]  # None: until `mavi-sync resume`

    def over(self, now: float) -> bool:
        return self.until is not None and now >= self.until

    def describe(self, now: Optional[float] = None) -> str:
        """The pause in words; times on `now`'s day show the hour alone."""
        until = f" until {_clock(self.until, now)}" if self.until is not None else " until `mavi-sync resume`"
        return f"paused by hand by {self.by} at {_clock(self.at, now)}{until}"


def hand_pause(daemon: Mapping[str, tuple[str, float]]) -> Optional[HandPause]:
    """The pause by hand recorded in the ledger's daemon table, if any."""
    if "hand_paused_by" not in daemon:
        return None
    try:
        at = float(daemon.get("hand_paused_at", ("0", 0))[0])
        until_text = daemon.get("hand_paused_until", ("", 0))[0]
        return HandPause(daemon["hand_paused_by"][0], at, float(until_text) if until_text else None)
    except ValueError:
        return None


def pause_by_hand(ledger: Ledger, by: str, now: float, until: Optional[float]) -> None:
    ledger.set_daemon(hand_paused_by=by, hand_paused_at=repr(now),
                      hand_paused_until=repr(until) if until is not None else None)


def resume_by_hand(ledger: Ledger) -> None:
    ledger.set_daemon(**{key: None for key in HAND_KEYS})


@dataclass(frozen=True)
class GateState:
    rate: Optional[float]  # bytes/s; None = no cap
    window_open: bool
    changes_at: Optional[float]  # when the timetable or the windows next change (epoch s)
    hand: Optional[HandPause]
    windowed: bool  # windows are configured
    # The moment evaluated: only the words of `held` depend on it (the hour alone on its day).
    now: float = field(default_factory=time.time, compare=False)

    @property
    def held(self) -> Optional[str]:
        """Why nothing may be sent now, or None."""
        if self.hand is not None:
            return self.hand.describe(self.now)
        if not self.window_open:
            return "outside the upload windows" + (f" until {_clock(self.changes_at, self.now)}"
                                                   if self.changes_at else "")
        return None

    def as_json(self) -> dict[str, Any]:
        """What `status` shows (and the ledger keeps for it)."""
        return {"cap_bytes_per_s": self.rate, "cap": human_rate(self.rate),
                "window": None if not self.windowed else ("open" if self.window_open else "closed"),
                "changes_at": self.changes_at, "held": self.held,
                "hand_paused": None if self.hand is None else {"by": self.hand.by, "at": self.hand.at,
                                                               "until": self.hand.until}}

    def summary(self) -> str:
        """For the systemd STATUS= line: empty when nothing limits uploads."""
        parts = []
        if self.held:
            parts.append(self.held)
        elif self.rate is not None:
            parts.append(f"capped at {human_rate(self.rate)}")
        return "; ".join(parts)


def evaluate(bandwidth: BandwidthConfig, hand: Optional[HandPause], now: float) -> GateState:
    moment = datetime.fromtimestamp(now)  # the box's local wall clock, as the windows are written
    second = week_second(moment) + moment.microsecond / 1e6
    whole = int(second)
    step = next_boundary(whole, bandwidth.limit, bandwidth.windows)
    return GateState(rate=bandwidth.limit.rate_at(whole), window_open=bandwidth.windows.open_at(whole),
                     changes_at=now - (second - whole) + step if step is not None else None, hand=hand,
                     windowed=bool(bandwidth.windows.spans), now=now)


class Gate:
    """Applies the gate's state: the throttle's rate and hold, the workers' `open` event,
    the ledger's record for `status`; a pause by hand that has run out is ended here."""

    def __init__(self, bandwidth: BandwidthConfig, ledger: Ledger, throttle: Throttle, opened: threading.Event,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.bandwidth = bandwidth
        self.ledger = ledger
        self.throttle = throttle
        self.opened = opened
        self.clock = clock
        self.state: Optional[GateState] = None

    def tick(self, daemon: Optional[Mapping[str, tuple[str, float]]] = None) -> GateState:
        """`daemon`: the ledger's daemon table, if the caller has just read it."""
        now = self.clock()
        hand = hand_pause(self.ledger.daemon() if daemon is None else daemon)
        if hand is not None and hand.over(now):
            resume_by_hand(self.ledger)
            log.info("uploads_resumed", by="timer", paused_by=hand.by)
            hand = None
        state = evaluate(self.bandwidth, hand, now)
        if state != self.state:
            self._apply(state)
        return state

    def _apply(self, state: GateState) -> None:
        before = self.state
        self.state = state
        self.throttle.set(state.rate, state.held)
        if state.held is None:
            self.opened.set()
        else:
            self.opened.clear()
        self.ledger.set_daemon(gate=json.dumps(state.as_json()))
        if before is None or before.held != state.held:
            if state.held is not None:
                log.info("uploads_held", reason=state.held)
            elif before is not None:
                log.info("uploads_released", cap=human_rate(state.rate))
        if before is None or before.rate != state.rate:
            log.info("bandwidth_cap", cap=human_rate(state.rate), bytes_per_s=state.rate)


def _clock(epoch: Optional[float], now: Optional[float] = None) -> str:
    """The local time of `epoch`; the date too unless it falls on the day of `now` (default: the wall clock)."""
    if epoch is None:
        return "?"
    moment = datetime.fromtimestamp(epoch)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return moment.strftime("%H:%M:%S" if moment.date() == today else "%Y-%m-%d %H:%M:%S")
