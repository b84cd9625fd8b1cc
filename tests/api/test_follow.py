"""The polling policy: growing intervals up to the cap (the loop itself: tests/pipeline/test_follower.py)."""

from __future__ import annotations

from mavi_sync.api.follow import PollPolicy, next_poll_s


def test_intervals_grow_to_the_cap() -> None:
    policy = PollPolicy(initial_s=15, max_s=600, factor=2)
    assert [next_poll_s(n, policy) for n in range(7)] == [15, 30, 60, 120, 240, 480, 600]
