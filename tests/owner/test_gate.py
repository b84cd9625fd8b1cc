"""The gate: windows, the cap's timetable and a pause by hand, read at a moment; the Gate
applying them to the throttle (an upload in flight is cut off when they hold) and to the
workers' event; a pause by hand that runs out ends by itself. A real ledger."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from mavi_sync.api.throttle import Throttle
from mavi_sync.config import build_config
from mavi_sync.errors import Held
from mavi_sync.owner.gate import Gate, evaluate, hand_pause, pause_by_hand
from mavi_sync.ledger.store import Ledger


def bandwidth(**table: object):  # type: ignore[no-untyped-def]
    return build_config({"folders": [{"path": "/cam"}], "bandwidth": table}).bandwidth


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()  # local time, as the windows are written


def test_a_closed_window_holds_until_it_opens_and_says_when() -> None:
    state = evaluate(bandwidth(windows=["23:00-07:00"], limit="08:00,2M 23:00,off"), None, at("2026-11-30 12:00:00"))
    assert not state.window_open and state.rate == 2 << 20
    assert state.held == "outside the upload windows until " + time.strftime(
        "%H:%M:%S", time.localtime(at("2026-11-30 23:00:00")))
    assert state.changes_at == at("2026-11-30 23:00:00")
    # The words are the evaluated moment's, never the wall clock's: the next day shows its date.
    late = evaluate(bandwidth(windows=["06:00-07:00"]), None, at("2026-11-30 23:30:00"))
    assert late.held == "outside the upload windows until 2026-12-01 06:00:00"
    night = evaluate(bandwidth(windows=["23:00-07:00"], limit="08:00,2M 23:00,off"), None, at("2026-12-01 01:00:00"))
    assert night.window_open and night.rate is None and night.held is None


def test_a_pause_by_hand_holds_over_an_open_window() -> None:
    hand = hand_pause({"hand_paused_by": ("alice", 0), "hand_paused_at": ("100.0", 0), "hand_paused_until": ("", 0)})
    assert hand is not None and hand.until is None and not hand.over(1e12)
    state = evaluate(bandwidth(), hand, at("2026-11-30 12:00:00"))
    assert state.window_open and state.held and state.held.startswith("paused by hand by alice at ")
    assert state.as_json()["hand_paused"] == {"by": "alice", "at": 100.0, "until": None}


def test_the_gate_cuts_an_upload_in_flight_when_a_window_closes(tmp_path: Path) -> None:
    opened, throttle, stop = threading.Event(), Throttle(), threading.Event()
    now = [at("2026-11-30 06:59:59")]
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        gate = Gate(bandwidth(windows=["23:00-07:00"]), ledger, throttle, opened, clock=lambda: now[0])
        gate.tick()
        assert opened.is_set() and throttle.held is None
        throttle.take(1 << 20, stop)  # sending
        now[0] += 2  # 07:00:01: the window has closed
        gate.tick()
        assert not opened.is_set()
        with pytest.raises(Held, match="outside the upload windows"):
            throttle.take(1 << 20, stop)
        assert '"window": "closed"' in ledger.daemon()["gate"][0]


def test_a_pause_by_hand_that_ran_out_ends_by_itself(tmp_path: Path) -> None:
    opened, throttle = threading.Event(), Throttle()
    now = [1000.0]
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        pause_by_hand(ledger, "root", now[0], now[0] + 60)
        gate = Gate(bandwidth(), ledger, throttle, opened, clock=lambda: now[0])
        assert gate.tick().held and not opened.is_set()
        now[0] += 61
        assert gate.tick().held is None and opened.is_set()
        assert hand_pause(ledger.daemon()) is None


def test_the_cap_follows_its_timetable_as_the_clock_passes_its_times(tmp_path: Path) -> None:
    opened, throttle = threading.Event(), Throttle()
    now = [at("2026-11-30 07:59:59")]
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        gate = Gate(bandwidth(limit="08:00,2M 23:00,off"), ledger, throttle, opened, clock=lambda: now[0])
        gate.tick()
        assert throttle.rate is None
        now[0] += 1  # 08:00:00
        gate.tick()
        assert throttle.rate == 2 << 20 and opened.is_set()
        now[0] = at("2026-11-30 23:00:00")
        gate.tick()
        assert throttle.rate is None
