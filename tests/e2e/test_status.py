"""`status` counts only what is true: "uploading" is files whose request is in flight (not
a worker reading a file or waiting for its rate-limit slot), and the oldest pending file
is named, with since when, even when the daemon holds it back before it has a ledger row."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import requests

from mavi_sync.dev.samples import grown_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import CLI, until, video_bytes


def _uploading(summary: object) -> int:
    found = re.search(r"uploading (\d+)", str(summary))
    assert found, summary
    return int(found.group(1))


def test_nothing_sent_is_uploading_0_and_the_oldest_file_held_back_is_named(spawn, emulator, admin: Admin,
                                                                           tmp_path: Path) -> None:
    """Seen in the field: `uploading 1` while nothing was sent, `oldest_pending` null while
    bad files waited out their grace."""
    d = spawn(emulator.url, settle_s=0.2, incomplete_grace_s=600)
    d.config.write_text(d.config.read_text().replace("rate_limit_per_minute = 6000", "rate_limit_per_minute = 2"))
    d.start()
    cut = d.camera / "cut.mp4"
    clip = video_bytes(tmp_path)
    cut.write_bytes(clip[: len(clip) // 3])  # no moov yet: held back, no ledger row
    until(lambda: d.events("file_unfinished"), 15)
    held_at = time.time()
    (d.camera / "first.mp4").write_bytes(video_bytes(tmp_path, seconds=1))
    (d.camera / "second.mp4").write_bytes(video_bytes(tmp_path, seconds=1.5))
    until(lambda: len(admin.uploads("video")) == 1, 30)  # the second now waits 30 s for its slot
    until(lambda: d.count("ready") == 1 and d.count("uploading") == 0, 15)  # claimed, nothing leaving
    claimed = time.time()
    status = until(lambda: (s := d.status()) and time.time() - s["heartbeat_age_s"] > claimed + 0.1 and s, 15)
    assert _uploading(status["summary"]) == 0, status["summary"]
    oldest = status["oldest_pending"]
    assert oldest is not None and oldest["path"] == str(cut), status
    assert oldest["state"] == "unfinished" and "not a readable MP4" in oldest["reason"], oldest
    assert held_at - 15 <= oldest["since"] <= held_at and 0 < oldest["age_s"] <= time.time() - oldest["since"], oldest
    text = subprocess.run([*CLI, "status", "--config", str(d.config)], capture_output=True, text=True,
                          timeout=30).stdout
    assert f"oldest pending: {cut} (unfinished" in text and "since " in text, text
    assert d.stop() == 0


def test_a_request_in_flight_is_uploading_1_in_status_and_metrics(spawn, emulator, admin: Admin) -> None:
    port = _free_port()
    d = spawn(emulator.url, tables=f"[metrics]\nport = {port}\n")
    admin.faults(link_bytes_per_s=300_000)  # a slow uplink: 3 MB take 10 s
    d.start()
    grown_video(d.camera / "big.mp4", 3 << 20, "big")
    until(lambda: d.count("uploading") == 1, 30)
    until(lambda: _uploading(d.status()["summary"]) == 1, 10)
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "mavi_sync_uploads_in_flight 1.0" in metrics, metrics
    oldest = d.status()["oldest_pending"]
    assert oldest["path"] == str(d.camera / "big.mp4") and oldest["state"] == "uploading", oldest
    admin.faults(link_bytes_per_s=0)
    until(lambda: d.count("confirmed") == 1, 60)
    until(lambda: _uploading(d.status()["summary"]) == 0, 10)
    assert "mavi_sync_uploads_in_flight 0.0" in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert d.status()["oldest_pending"] is None
    assert d.stop() == 0


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
