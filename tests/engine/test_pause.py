"""Pauses and outages: the trial a pause lets through, and what makes an outage."""

from __future__ import annotations

import threading

from mavi_sync.errors import TransientError, UnknownOutcome, Unreachable
from mavi_sync.engine.pause import OUTAGE_PROBE_MAX_S, OUTAGE_PROBE_S, SILENT_FOR_OUTAGE, Outage, Pause


def test_a_pause_lets_exactly_one_worker_try_after_its_probe_interval() -> None:
    pause = Pause()
    assert pause.set("outage", 100.0, 5.0) is True and pause.set("outage", 101.0, 5.0) is False  # logged once
    assert pause.trial(104.0) is False  # too early
    assert pause.trial(105.0) is True
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(pause.wait(0.05))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert results.count(None) == 3 and results.count(1) == 1  # one trial (number 1), not a stampede
    assert pause.paused
    pause.set("outage", 106.0, 10.0)  # the trial failed: paused again, from now
    assert pause.trial(115.0) is False and pause.trial(116.0) is True
    assert pause.clear() is True and pause.wait(0) == 0


def test_a_trial_that_asked_nothing_goes_to_the_next_worker_one_that_was_decided_does_not() -> None:
    pause = Pause()
    pause.set("bad_key", 0.0, 2.0)
    assert pause.trial(2.0) and pause.probing
    first = pause.wait(0)
    assert first and pause.wait(0) is None  # taken
    assert pause.give_back(first) is True  # its file was refused here, known, unfinished: no request
    second = pause.wait(0)
    assert second == first and pause.wait(0) is None  # the same trial, to the next worker
    pause.set("bad_key", 2.5, 2.0)  # its request was refused: decided
    assert pause.give_back(second) is False and pause.wait(0) is None and not pause.probing
    assert pause.trial(4.0) is False and pause.trial(4.5) is True  # the next one counts from the answer
    third = pause.wait(0)
    pause.clear()  # an upload went through
    assert pause.give_back(third) is False and pause.wait(0) == 0


def test_a_refused_connection_is_an_outage_at_once_silence_only_when_repeated() -> None:
    assert Outage().failed(Unreachable("refused"), 1.0) is True
    outage = Outage()
    for _ in range(SILENT_FOR_OUTAGE - 1):
        assert outage.failed(UnknownOutcome("no answer"), 1.0) is False
    assert outage.failed(TransientError("5xx", status=503), 1.0) is False  # an answer resets the count
    assert [outage.failed(UnknownOutcome("no answer"), 2.0) for _ in range(SILENT_FOR_OUTAGE)][-1] is True
    assert outage.since == 2.0


def test_each_failed_trial_doubles_the_wait_up_to_the_cap_and_an_answer_ends_it() -> None:
    outage = Outage()
    outage.failed(Unreachable("refused"), 10.0)
    waits = [outage.probe_s()]
    for _ in range(8):
        outage.trial_opened()
        waits.append(outage.probe_s())
    assert waits[:4] == [OUTAGE_PROBE_S, 2 * OUTAGE_PROBE_S, 4 * OUTAGE_PROBE_S, 8 * OUTAGE_PROBE_S]
    assert waits[-1] == OUTAGE_PROBE_MAX_S
    assert outage.answered() == 10.0 and outage.since is None and outage.probe_s() == OUTAGE_PROBE_S
