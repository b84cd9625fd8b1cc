"""How often to ask for a file's remote status: a growing interval, and a give-up time after
which a file still pending is flagged (follower.py runs the loop)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollPolicy:
    initial_s: float = 15.0
    max_s: float = 600.0
    give_up_s: float = 86400.0
    factor: float = 1.6


def next_poll_s(polls: int, policy: PollPolicy) -> float:
    """The wait before poll number `polls + 1`: grows by `factor` up to `max_s`. Pure."""
    return min(policy.max_s, policy.initial_s * policy.factor ** max(0, polls))
