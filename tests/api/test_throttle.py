"""The shared byte cap: reads take tokens, several readers share one rate, a hold or a stop
cuts a body off. The clock is a counter the test moves: no timing in the assertions."""

from __future__ import annotations

import io
import threading
import time

import pytest

from mavi_sync.api.throttle import MAX_SLICE, MIN_SLICE, Throttle, Throttled
from mavi_sync.errors import Held, Interrupted


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stream(io.BytesIO):
    @property
    def len(self) -> int:
        return len(self.getbuffer()) - self.tell()


def taker(throttle: Throttle, n: int, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=throttle.take, args=(n, stop), daemon=True)
    thread.start()
    return thread


def test_uncapped_reads_pass_whole_and_at_once() -> None:
    body = Throttled(Stream(b"x" * (3 << 20)), Throttle(), threading.Event())
    assert body.len == 3 << 20
    assert len(body.read(1 << 20)) == 1 << 20 and body.len == 2 << 20


def test_a_capped_read_takes_one_slice_of_the_rate() -> None:
    throttle = Throttle()
    throttle.set(2 << 20, None)
    assert throttle.slice(1 << 20) == int((2 << 20) * 0.1)
    throttle.set(1000, None)
    assert throttle.slice(1 << 20) == MIN_SLICE  # a slow cap still reads 16 KiB at a time
    throttle.set(1 << 40, None)
    assert throttle.slice(4 << 20) == MAX_SLICE


def test_bytes_wait_for_the_time_the_rate_gives_them() -> None:
    clock, stop = Clock(), threading.Event()
    throttle = Throttle(clock)
    throttle.set(100_000, None)  # one slice = 16 KiB (the minimum)
    clock.now += 10  # the bucket fills to one slice, no more
    throttle.take(MIN_SLICE, stop)
    waiting = taker(throttle, MIN_SLICE, stop)
    waiting.join(0.7)
    assert waiting.is_alive(), "took bytes the rate had not given yet"
    clock.now += MIN_SLICE / 100_000  # exactly the time one slice takes
    waiting.join(2)
    assert not waiting.is_alive()


def test_two_readers_share_one_rate() -> None:
    clock, stop = Clock(), threading.Event()
    throttle = Throttle(clock)
    throttle.set(MIN_SLICE * 10, None)  # one slice per 0.1 s of the clock
    a, b = taker(throttle, MIN_SLICE, stop), taker(throttle, MIN_SLICE, stop)
    clock.now += 0.1  # time for one slice: one of them goes
    time.sleep(0.7)
    assert [a.is_alive(), b.is_alive()].count(True) == 1
    clock.now += 0.1
    a.join(2), b.join(2)
    assert not a.is_alive() and not b.is_alive()


def test_a_hold_cuts_a_waiting_read_off_and_raising_the_cap_frees_it() -> None:
    clock, stop = Clock(), threading.Event()
    throttle = Throttle(clock)
    throttle.set(1, None)  # a slice would take hours
    errors: list[BaseException] = []

    def read() -> None:
        try:
            throttle.take(MIN_SLICE, stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    throttle.set(1, "paused by hand by root")
    thread.join(2)
    assert not thread.is_alive() and isinstance(errors[0], Held) and "paused by hand" in str(errors[0])
    throttle.set(None, None)
    throttle.take(10 << 20, stop)  # no cap: at once


def test_a_stop_ends_a_wait_as_interrupted() -> None:
    throttle, stop = Throttle(Clock()), threading.Event()
    throttle.set(1, None)
    stop.set()
    with pytest.raises(Interrupted):
        Throttled(Stream(b"abc"), throttle, stop).read(3)
