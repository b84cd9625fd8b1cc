"""What both days share: the soak's clock, waiting for the day to settle, and its verdict."""

from __future__ import annotations

import os
import time

from tests.e2e.day import FULL, GRACE_S
from tests.e2e.hours import Day
from tests.e2e.promises import Promises
from tests.e2e.stream import record_figures


SOAK_S = float(os.environ.get("MAVI_SOAK_MINUTES", "60")) * 60
BOX_S, FLEET_S = SOAK_S * 2 / 3, SOAK_S / 3  # the soak's hour: the box's days, then the fleet's
PER_MINUTE = 240  # the account's upload rate, and each node's configured one


def settle_day(day: Day, p: Promises) -> None:
    p.within(GRACE_S + 45, lambda: not day.unsettled(), "by the end of the day every file is decided and every "
             "after-upload action done (nothing stranded, nothing waiting for good)", lambda: day.unsettled()[:12],
             every=1.0)


def finish(p: Promises, suite: str, rounds: int, notes: list[str], started: float) -> None:
    for note in sorted(set(notes)):
        print(f"note: {note}")
    print(f"figures: {p.figures}")
    record_figures(suite, **{"size": "full" if FULL else "small", "rounds": rounds, "broken": len(p.broken),
                             "seconds": round(time.monotonic() - started), **p.figures})
    told = "".join(f"\nnote: {note}" for note in sorted(set(notes)))
    assert not p.broken, f"broken promises of the day:\n{p.report()}{told}"
