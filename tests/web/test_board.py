"""The page's document (web/board.py): per folder what is done and left, in flight, waiting
and why, failed and refused with reasons, files and bytes to go, the rate and an ETA; built
at most once a second from a real ledger, a real queue and the engine's counters."""

from __future__ import annotations

import time

import pytest

from mavi_sync.owner.gate import GateState, HandPause
from mavi_sync.ledger.states import State
from mavi_sync.web import board as board_module
from mavi_sync.web.board import search
from mavi_sync.web.health import health
from tests.web.conftest import Rig


def test_each_folder_shows_done_queued_uploading_waiting_refused_and_failed(rig: Rig) -> None:
    rig.row("a.jpg", 100, State.CONFIRMED)
    failed = rig.row("b.jpg", 200, State.FAILED, last_error="HTTP 500 after 8 attempts")
    rig.row("c.jpg", 300, State.REJECTED, refused="larger than the 20 MB the image endpoint takes")
    rig.row("d.jpg", 400, State.READY, next_attempt_at=time.time() + 600, last_error="read timed out")
    rig.row("e.jpg", 500)
    rig.row("h.jpg", 1000)  # a worker has it (claimed: the row still says ready)
    rig.row("n.jpg", 50, State.CONFIRMED, folder=rig.nvr)
    for name, size in (("f.jpg", 600), ("g.jpg", 700)):  # found, queued, not registered yet
        rig.queue.put(rig.file(name, size))
    rig.counters.begin(rig.cam / "h.jpg")
    rig.counters.progress_of(rig.cam / "h.jpg")(400, 1000)

    doc = rig.document()
    cam, nvr = doc["folders"]
    assert cam == {"path": str(rig.cam), "target": "auto", "done": 1, "confirming": 0, "queued": 3, "uploading": 1,
                   "waiting": 1, "refused": 1, "failed": 1, "bytes_to_go": 400 + 500 + 1000 + 600 + 700}
    assert (nvr["done"], nvr["queued"]) == (1, 0)
    totals = doc["totals"]
    assert totals["files_to_go"] == 5 and totals["bytes_to_go"] == 3200 - 400 and totals["unmeasured"] == 0
    assert totals["settling"] == 3 and totals["done"] == 2
    assert [f["path"] for f in doc["failed"]] == [str(rig.cam / "b.jpg")] and doc["failed"][0]["id"] == failed
    assert doc["failed"][0]["error"] == "HTTP 500 after 8 attempts"
    assert doc["refused"] == [{"folder": str(rig.cam), "reason": "larger than the 20 MB the image endpoint takes",
                               "files": 1}]
    assert [(w["path"], w["state"], w["error"]) for w in doc["waiting"]] == [(str(rig.cam / "d.jpg"), "waiting",
                                                                                "read timed out")]
    assert [(f["path"], f["state"]) for f in doc["files"][:2]] == [(str(rig.cam / "f.jpg"), "queued"),
                                                                    (str(rig.cam / "g.jpg"), "queued")]
    assert {f["state"] for f in doc["files"][2:]} >= {"confirmed", "failed", "refused", "waiting", "queued"}
    [moving] = doc["uploading"]
    assert moving["path"] == str(rig.cam / "h.jpg") and (moving["sent"], moving["total"]) == (400, 1000)
    assert doc["status"]["counts"]["failed"] == {"image": 1}  # the document `mavi-sync status --json` prints


def test_the_rate_is_measured_over_the_last_minute_and_gives_an_eta(rig: Rig) -> None:
    rig.row("e.jpg", 10_000)
    path = rig.cam / "e.jpg"
    rig.counters.begin(path)
    rig.counters.progress_of(path)(0, 10_000)
    assert rig.document()["totals"]["rate_bytes_per_s"] is None  # one sample: not yet a rate
    rig.counters.progress_of(path)(2_000, 10_000)
    totals = rig.document()["totals"]  # 2 s later: 2000 bytes
    assert totals["rate_bytes_per_s"] == 1000 and totals["bytes_to_go"] == 8_000 and totals["eta_s"] == 8
    rig.counters.end(path)  # its bytes stay counted (moved), none twice
    assert rig.document()["totals"]["rate_bytes_per_s"] == 500
    rig.now += 120  # nobody looked for two minutes: the old samples are dropped
    assert rig.document()["totals"]["rate_bytes_per_s"] is None


def test_why_uploads_wait_is_said(rig: Rig) -> None:
    rig.gate = GateState(rate=None, window_open=True, changes_at=None, hand=HandPause("alice", 0.0, None),
                         windowed=False)
    rig.pause = ("no_credits", "the account has no credits left")
    held = rig.document()["held"]
    assert [h["kind"] for h in held] == ["hand", "account"] and "alice" in held[0]["text"]
    assert "no credits" in held[1]["text"]
    rig.gate = GateState(rate=None, window_open=False, changes_at=None, hand=None, windowed=True)
    rig.pause = ("outage", "connection refused")
    assert [h["kind"] for h in rig.document()["held"]] == ["window", "outage"]


def test_a_document_is_built_at_most_once_a_second_however_many_ask(rig: Rig) -> None:
    first = rig.document()
    assert all(rig.board.document() is first for _ in range(100))
    rig.now += 1.0
    assert rig.board.document() is not first


def test_queued_files_are_measured_a_bounded_number_at_a_time(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "STAT_BUDGET", 2)
    for i in range(5):
        rig.queue.put(rig.file(f"q{i}.jpg", 100))
    totals = [rig.document()["totals"] for _ in range(3)]
    assert [(t["unmeasured"], t["bytes_to_go"]) for t in totals] == [(3, 200), (1, 400), (0, 500)]


def test_captions_are_searched_in_the_recent_ones(rig: Rig) -> None:
    doc = {"captions": [{"text": "A person walks to the door", "time": None, "path": "a"},
                        {"text": "A cat on the wall", "time": None, "path": "b"}]}
    assert [c["path"] for c in search(doc, "PERSON")] == ["a"] and len(search(doc, "")) == 2
    assert search(doc, "dog") == []


def test_an_unreadable_ledger_is_said_and_makes_the_daemon_unhealthy(rig: Rig) -> None:
    assert health(rig.document())[0] == 503  # no heartbeat from this process: stalled
    rig.ledger.close()
    doc = rig.document()
    assert "error" in doc and health(doc) == (503, {"ok": False, "status": "ledger"})



def test_a_file_archived_after_upload_is_shown_where_its_bytes_went(rig: Rig) -> None:
    rig.row("a.jpg", 100, State.CONFIRMED)
    moved = rig.cam.parent / "archive" / "a.jpg"
    rig.ledger.duty_done(bytes(rig.cam / "a.jpg"), "archived", bytes(moved))
    [row] = rig.document()["files"]
    assert row["path"] == f"{moved} (archived)" and row["state"] == "confirmed"
