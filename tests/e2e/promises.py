"""The promises of a long scene (tests/e2e/test_day.py), kept or found broken: each broken
one is named with what broke it, and the test fails on all of them at once, so that one
run tells every one instead of the first."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional


@dataclass
class Promises:
    """The promises of the day found broken, each named with what broke it; the test fails
    on them at the end, all at once, so that one run tells every one."""

    broken: list[tuple[str, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def check(self, ok: bool, promise: str, detail: object = "") -> bool:
        if not ok:
            self.broken.append((promise, str(detail)))
        return ok

    def within(self, seconds: float, check: Callable[[], Any], promise: str,
               detail: Callable[[], object] = lambda: "", every: float = 0.25) -> Optional[float]:
        """Seconds until `check` holds (bounded); None, and the promise recorded broken, if it never did."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if check():
                return time.monotonic() - started
            time.sleep(every)
        if check():
            return time.monotonic() - started
        self.check(False, promise, f"not within {seconds:g} s; {detail()}")
        return None

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """The block's seconds, added to the figures under hours_s[name]."""
        started = time.monotonic()
        try:
            yield
        finally:
            took = self.figures.setdefault("hours_s", {})
            took[name] = round(took.get(name, 0) + time.monotonic() - started, 1)

    def report(self, shown: int = 3, width: int = 400) -> str:
        """Each broken promise once, how often it broke, and its first cases."""
        cases: dict[str, list[str]] = {}
        for promise, detail in self.broken:
            cases.setdefault(promise, []).append(detail)
        return "\n".join(f"- {promise} ({len(found)}x): " + " | ".join(d[:width] for d in found[:shown] if d)
                         for promise, found in cases.items())
