"""Misbehaviour on demand: the emulator's fault settings, scripted faults and rate limits.

Faults are set at start (CLI flags) and changed at run time through the admin
endpoint. `Script` rules force a fault on the next N matching requests, so tests
can be exact ("drop the next video upload") where shares ("20 % 5xx") are random.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, Optional

ACTIONS = ("error", "rate_limit", "drop", "hang", "bad_key", "no_credits", "disabled", "fail", "latency", "refuse")


@dataclass(frozen=True)
class Faults:
    rate_limit_per_minute: float = 0.0  # uploads per account per minute; 0 = unlimited
    rate_limit_burst: int = 2
    query_rate_limit_per_second: float = 0.0  # get_metadata / list_videos / v2 metadata
    error_rate: float = 0.0  # share of API requests answered with a 5xx
    throttle_rate: float = 0.0  # share of API requests answered "too fast" (0429 / 429), whatever the pace
    latency_s: float = 0.0  # each request waits a random 0..latency_s before it is handled
    drop_rate: float = 0.0  # share of uploads whose connection is cut halfway through the body
    hang_rate: float = 0.0  # share of uploads stored but never answered (unknown outcome)
    fail_rate: float = 0.0  # share of videos/assets whose processing ends FAILED
    bad_key: bool = False  # every key is refused
    no_credits: bool = False  # every upload is refused: out of credits
    disabled: bool = False  # the account is disabled
    v2_limit_as_400: bool = False  # v2 rate limits answered 400 "Request has exceeded the limit."
    retry_after_s: Optional[float] = None  # sent as Retry-After with 429 and 503 answers
    hang_s: float = 3600.0  # how long a hung request stays unanswered
    link_bytes_per_s: float = 0.0  # upload bodies read no faster than this (a slow uplink); 0 = at once
    folders_unique: bool = True  # folder names unique within the account, as documented; false: a lax server
    list_repeats: bool = False  # each list_videos page after the first repeats the page before's last video

    def update(self, changes: dict[str, Any]) -> "Faults":
        """A copy with `changes` applied; ValueError names an unknown or mistyped field."""
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r} (known: {', '.join(known)})")
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif value is not None and not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number")
            clean[name] = value
        return replace(self, **clean)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Rule:
    path: str  # substring of the request path
    action: str
    count: int = 1
    value: float = 0.0  # latency seconds, for "latency"


@dataclass
class Script:
    """Forced faults for the next matching requests, first rule first."""

    rules: list[Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, items: list[dict[str, Any]]) -> None:
        rules = []
        for item in items:
            rule = Rule(str(item["path"]), str(item["action"]), int(item.get("count", 1)),
                        float(item.get("value", 0.0)))
            if rule.action not in ACTIONS:
                raise ValueError(f"unknown action {rule.action!r} (known: {', '.join(ACTIONS)})")
            rules.append(rule)
        with self._lock:
            self.rules += rules

    def take(self, path: str) -> Optional[Rule]:
        """The first rule matching `path`, used up by one."""
        with self._lock:
            for rule in self.rules:
                if rule.path in path and rule.count > 0:
                    rule.count -= 1
                    if rule.count == 0:
                        self.rules.remove(rule)
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()


class Bucket:
    """Server-side GCRA limiter: `rate` per second, `burst` at once. Returns True if allowed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat = 0.0

    def allow(self, rate: float, burst: int) -> bool:
        if rate <= 0:
            return True
        now = self._clock()
        interval = 1.0 / rate
        tat = max(self._tat, now)
        if tat - now > (burst - 1) * interval + 1e-9:
            return False
        self._tat = tat + interval
        return True


@dataclass
class Dice:
    """Random draws for the share-based faults (seeded for repeatable runs)."""

    rng: random.Random = field(default_factory=random.Random)

    def roll(self, share: float) -> bool:
        return share > 0 and self.rng.random() < share

    def uniform(self, high: float) -> float:
        return self.rng.uniform(0, high) if high > 0 else 0.0
