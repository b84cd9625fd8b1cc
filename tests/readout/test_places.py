"""Every read-out says where a row's bytes are now, the same way: `ledger` (JSON and text),
`captions`, `status` (errors, oldest pending, what waits after upload) and the metrics, all
read from one real ledger."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import generate_latest

from mavi_sync.after import AfterUpload
from mavi_sync.captions.store import captions
from mavi_sync.config.parse import build_config
from mavi_sync.ledger.store import Ledger
from mavi_sync.readout.metrics import Metrics, Sources
from mavi_sync.readout.report import ledger_rows, status_json, status_text, where
from mavi_sync.engine.snapshot import Counters
from mavi_sync.ledger.states import State


def clip(ledger: Ledger, path: Path, sha: str, *states: State, **fields: object) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sha.encode())
    row = ledger.register(path, path.stat(), str(path.parent), sha, "security", "default")
    for state in states:
        ledger.transition(row.id, state, **fields)
    return row.id


def test_ledger_captions_status_and_metrics_agree_on_where_bytes_are(tmp_path: Path) -> None:
    cam, archive = tmp_path / "cam", tmp_path / "archive"
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        caption = {"result": {"text": "a fox"}, "remote_id": "t1"}
        moved = clip(ledger, cam / "fox.mp4", "a" * 64, State.UPLOADING, State.CONFIRMED, **caption)
        ledger.duty_done(os.fsencode(cam / "fox.mp4"), "archived", os.fsencode(archive / "fox.mp4"))
        waits = clip(ledger, cam / "owl.mp4", "b" * 64, State.UPLOADING, State.CONFIRMED, remote_id="t2")
        ledger.owe(cam / "owl.mp4", waits, "delete")
        [duty] = ledger.duties(file_id=waits)
        ledger.duty_tried(duty.path, error="Read-only file system: " + str(cam), next_at=duty.next_at + 60)
        clip(ledger, cam / "cut.mp4", "c" * 64, State.UPLOADING, State.READY, lookup_due=1,
                    last_error="the connection was cut")
        ledger.forget_path(cam / "cut.mp4")
        rows = {r["sha256"][0]: r for r in ledger_rows(ledger, ledger.files())}
        assert [where(rows[c]) for c in "abc"] == [f"{archive / 'fox.mp4'} (archived)", str(cam / "owl.mp4"),
                                                   f"{cam / 'cut.mp4'} (no longer there)"]
        [listed] = captions(ledger, folder=cam)
        assert listed.as_json()["path"] == rows["a"]["path"] and listed.place.describe() == where(rows["a"])  # type: ignore[union-attr]
        status = status_json(ledger, duty.due_at + 30)
        [error] = status["last_errors"]
        assert (error["path"], error["place"]) == (rows["c"]["path"], "gone")
        assert status["after"] == {"delete": {"waiting": 1, "oldest": {
            "path": str(cam / "owl.mp4"), "age_s": 30.0, "attempts": 1, "error": f"Read-only file system: {cam}"}}}
        text = status_text(status)
        assert f"waiting to delete: 1, oldest {cam / 'owl.mp4'} (30 s; tried 1 time(s): Read-only" in text
        assert f"error: {cam / 'cut.mp4'} (no longer there) (vanished): the connection was cut" in text
        owner = AfterUpload(build_config({"folders": [{"path": str(cam)}]}), ledger, clock=lambda: duty.due_at + 30)
        sources = Sources(counts=ledger.counts, counters=Counters(), limiter=None, queue_depth=lambda: 0,
                          paused=lambda: False, clock=lambda: duty.due_at + 30, waiting=owner.waiting)
        scraped = generate_latest(Metrics(sources).registry).decode()
        assert 'mavi_sync_after_upload_waiting{action="delete"} 1.0' in scraped
        assert 'mavi_sync_after_upload_oldest_seconds{action="delete"} 30.0' in scraped
