"""Pauses and outages: the trial a pause lets through, and what makes an outage."""

from __future__ import annotations

import threading

from mavi_sync.errors import TransientError, UnknownOutcome, Unreachable
from mavi_sync.pause import OUTAGE_PROBE_MAX_S, OUTAGE_PROBE_S, SILENT_FOR_OUTAGE, Outage, Pause


def test_a_pause_lets_exactly_one_worker_try_after_its_probe_interval() -> None:
    pause = Pause()
    assert pause.set("outage", 100.0, 5.0) is True and pause.set("outage", 101.0, 5.0) is False  # logged once
    assert pause.trial(104.0) is False  # too early
    assert pause.trial(105.0) is True
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(pause.wait(0.05))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(results) == [False, False, False, True]  # one trial, not a stampede
    assert pause.paused
    pause.set("outage", 106.0, 10.0)  # the trial failed: paused again, from now
    assert pause.trial(115.0) is False and pause.trial(116.0) is True
    assert pause.clear() is True and pause.wait(0) is True


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
