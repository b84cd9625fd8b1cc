"""Status following: growing intervals, final states, give-up."""

from __future__ import annotations

import threading

from mavi_sync.api.follow import PollPolicy, follow, next_poll_s
from mavi_sync.api.model import DONE, FAILED, MISSING, PENDING, RemoteStatus


def test_intervals_grow_to_the_cap() -> None:
    policy = PollPolicy(initial_s=15, max_s=600, factor=2)
    assert [next_poll_s(n, policy) for n in range(7)] == [15, 30, 60, 120, 240, 480, 600]


def script(*states: str):  # type: ignore[no-untyped-def]
    answers = [RemoteStatus(s, s.upper()) for s in states]
    calls = []

    def check() -> RemoteStatus:
        calls.append(1)
        return answers[min(len(calls), len(answers)) - 1]

    return check, calls


def test_follow_stops_at_done_and_at_failed() -> None:
    quick = PollPolicy(initial_s=0.001, max_s=0.002, give_up_s=10)
    check, calls = script(MISSING, PENDING, PENDING, DONE)
    result = follow(check, quick)
    assert result.status.state == DONE and result.polls == 4 and not result.gave_up and len(calls) == 4
    check, _ = script(PENDING, FAILED)
    assert follow(check, quick).status.state == FAILED


def test_follow_gives_up_after_the_give_up_time() -> None:
    now = [0.0]
    check, calls = script(PENDING)

    def clock() -> float:
        now[0] += 100.0  # every look at the clock: 100 s later
        return now[0]

    result = follow(check, PollPolicy(initial_s=0.001, max_s=0.001, give_up_s=450), clock=clock)
    assert result.gave_up and result.status.state == PENDING and 2 <= len(calls) <= 5


def test_a_stop_request_ends_following_at_once() -> None:
    stop = threading.Event()
    stop.set()
    check, calls = script(PENDING)
    result = follow(check, PollPolicy(initial_s=3600, max_s=3600), stop=stop)
    assert result.gave_up and len(calls) == 1
