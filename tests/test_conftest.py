"""The test suite's own guards: a guard that cannot fail guards nothing."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import no_threads_left


def test_the_thread_guard_catches_a_daemon_thread_left_running() -> None:
    stop = threading.Event()
    with pytest.raises(AssertionError, match="leaked threads"):
        with no_threads_left(grace_s=0.1):
            threading.Thread(target=stop.wait, args=(30,), daemon=True, name="left-behind").start()
    stop.set()


def test_the_thread_guard_waits_for_a_thread_that_was_told_to_stop() -> None:
    stop = threading.Event()
    with no_threads_left(grace_s=5):
        threading.Thread(target=stop.wait, args=(30,), daemon=True).start()
        stop.set()
