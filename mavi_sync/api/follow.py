"""Following a file's remote status until it is final, with a growing interval and a give-up time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from mavi_sync.api.model import DONE, FAILED, RemoteStatus

FINAL_STATES = frozenset({DONE, FAILED})


@dataclass(frozen=True)
class PollPolicy:
    initial_s: float = 15.0
    max_s: float = 600.0
    give_up_s: float = 86400.0
    factor: float = 1.6


def next_poll_s(polls: int, policy: PollPolicy) -> float:
    """The wait before poll number `polls + 1`: grows by `factor` up to `max_s`. Pure."""
    return min(policy.max_s, policy.initial_s * policy.factor ** max(0, polls))


@dataclass(frozen=True)
class Followed:
    status: RemoteStatus
    polls: int
    gave_up: bool  # the give-up time passed before the status was final


def follow(check: Callable[[], RemoteStatus], policy: PollPolicy, *, stop: Optional[threading.Event] = None,
           clock: Callable[[], float] = time.monotonic) -> Followed:
    """Call `check` until it reports DONE or FAILED, `policy.give_up_s` passes, or `stop` is set."""
    stop = stop or threading.Event()
    started = clock()
    polls = 0
    while True:
        status = check()
        polls += 1
        if status.state in FINAL_STATES:
            return Followed(status, polls, gave_up=False)
        remaining = policy.give_up_s - (clock() - started)
        if remaining <= 0 or stop.is_set():
            return Followed(status, polls, gave_up=True)
        if stop.wait(min(next_poll_s(polls - 1, policy), remaining)):
            return Followed(status, polls, gave_up=True)
