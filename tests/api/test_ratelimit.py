"""The shared token bucket: the arithmetic on a fake clock, then real threads sharing it."""

from __future__ import annotations

import threading
import time

import pytest

from mavi_sync.api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slots_are_spaced_by_the_interval() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=2.0, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    assert bucket.waits == 3 and bucket.waited_s == pytest.approx(3.0)


def test_burst_lets_a_few_through_at_once_then_spaces() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=1.0, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]


def test_idle_time_does_not_bank_more_than_the_burst() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=1.0, burst=2, clock=clock)
    clock.now += 3600
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 1.0]


def test_penalize_holds_everyone_back() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=10.0, clock=clock)
    bucket.penalize(30.0)
    assert bucket.reserve() == pytest.approx(30.0)


def test_refusals_slow_the_pace_and_successes_win_it_back_up_to_the_ceiling() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=10.0, clock=clock)
    bucket.penalize(bucket.interval)
    assert bucket.rate == pytest.approx(9.0)
    for _ in range(50):
        bucket.penalize(0.0)
    assert bucket.rate == pytest.approx(5.0)  # never below half the configured rate
    for _ in range(200):
        bucket.reward()
    assert bucket.rate == 10.0  # and never above it
    clock.now += 100
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])


def test_a_stopped_wait_gives_the_slot_back() -> None:
    bucket = RateLimiter(rate=0.01)  # one slot per 100 s
    assert bucket.acquire()
    stop = threading.Event()
    stop.set()
    assert bucket.acquire(stop) is False
    assert bucket.reserve() == pytest.approx(100.0, abs=0.5)  # not 200: the stopped slot was returned


def test_threads_sharing_a_bucket_stay_under_the_rate() -> None:
    bucket = RateLimiter(rate=50.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    stamps.sort()
    # 20 requests at 50/s: the first is free, the other 19 need 19 intervals.
    assert stamps[-1] - stamps[0] >= 19 / 50 - 0.02


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, burst=0)


def test_requests_that_leave_late_together_push_the_next_one_back() -> None:
    """Two workers' slots pass during a stall and both requests leave at its end, reaching
    the server 10 ms later; the next leaves on its slot and reaches it at once. The
    server (the emulator's own bucket, burst 2) must accept all of them."""
    from mavi_sync.emulator.faults import Bucket
    clock = Clock()
    client = RateLimiter(rate=10.0, clock=clock)
    server = Bucket(clock=clock)
    assert client.reserve() == 0.0 and client.reserve() == pytest.approx(0.1)
    clock.now += 0.5  # the stall: both slots pass unused
    client.sent()
    client.sent()
    clock.now += 0.01
    accepted = [server.allow(10.0, 2), server.allow(10.0, 2)]
    for _ in range(3):
        clock.now += client.reserve()  # a worker is back: its next slot...
        client.sent()
        accepted.append(server.allow(10.0, 2))
    assert accepted == [True] * 5


def test_a_request_on_time_does_not_move_the_schedule() -> None:
    clock = Clock()
    bucket = RateLimiter(rate=10.0, clock=clock)
    assert bucket.reserve() == 0.0
    bucket.sent()
    delay = bucket.reserve()
    clock.now += delay
    bucket.sent()
    assert delay == pytest.approx(0.1) and bucket.reserve() == pytest.approx(0.1)


def test_queries_paced_by_the_clients_limiter_survive_a_slow_first_arrival() -> None:
    """`check` lists page after page at the query rate. The first request sets up its
    connection and reaches the server 20 ms after it left; the next ones, on that
    connection, at once. The server (burst 2, as the emulator's) must accept every one."""
    from mavi_sync.api.client import Client, KeyRing
    from mavi_sync.config.parse import build_config
    from mavi_sync.config.secrets import Secret
    from mavi_sync.emulator.faults import Bucket
    config = build_config({"uploads": {"query_rate_limit_per_second": 5}, "folders": [{"path": "/srv/cam"}]})
    query = Client.from_config(config, keys=KeyRing.of(Secret("k", "t"))).transport.limiters["query"]
    assert query is not None
    clock = Clock()
    client, server = RateLimiter(query.rate, query.burst, clock=clock), Bucket(clock=clock)
    accepted = []
    for i in range(6):
        clock.now += client.reserve()
        client.sent()
        latency = 0.02 if i == 0 else 0.0
        clock.now += latency
        accepted.append(server.allow(5.0, 2))
        clock.now += 0.01 - latency  # the answer comes back; the next page is asked for
    assert accepted == [True] * 6
