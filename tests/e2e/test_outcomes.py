"""What happens after an attempt, end to end: a remote FAILED is retried after the cool-down,
and "look before sending again" survives every failure until the server holds the video."""

from __future__ import annotations

import sqlite3
import time
import signal
from pathlib import Path

import pytest

from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import Daemon, sha, until, video_bytes

UPLOAD, LOOKUP = "/serve/api/v1/upload", "/serve/api/v1/list_videos"


def test_a_video_the_server_fails_to_process_is_retried_after_the_cool_down(
        emulator, spawn, admin: Admin, tmp_path: Path) -> None:
    admin.faults(fail_rate=1.0)  # every video's processing ends FAILED
    d = spawn(emulator.url, uploads="failed_cooldown_s = 2\n")
    d.start()
    data = video_bytes(tmp_path)
    (d.camera / "clip.mp4").write_bytes(data)
    until(lambda: d.count("failed") == 1, 30)
    admin.faults(fail_rate=0.0)
    until(lambda: d.count("confirmed") == 1, 30)  # tried again once the cool-down passed
    uploads = admin.uploads("video")
    assert [u["sha256"] for u in uploads] == [sha(data)] * 2
    failed = d.events("upload_failed")
    assert len(failed) == 1 and "could not process" in str(failed[0]["error"]), failed
    assert not d.events("follower_error")
    assert d.stop() == 0


@pytest.mark.parametrize("fault,count", [("error", 3), ("error", 9), ("bad_key", 1)],
                         ids=["lookup-503-once", "lookup-503-thrice", "lookup-account-error"])
def test_a_video_maybe_sent_before_a_kill_is_looked_up_until_a_lookup_answers(
        daemon: Daemon, admin: Admin, tmp_path: Path, fault: str, count: int) -> None:
    admin.script({"path": UPLOAD, "action": "hang"})  # stored, never answered
    daemon.start()
    data = video_bytes(tmp_path)
    (daemon.camera / "clip.mp4").write_bytes(data)
    until(lambda: len(admin.uploads("video")) == 1, 20)
    daemon.stop(signal.SIGKILL)  # the server holds it; the ledger never heard back
    # On restart the lookups fail (503s, or a key the server refuses) before one answers.
    admin.script({"path": LOOKUP, "action": fault, "count": count})
    daemon.start()
    until(lambda: daemon.count("confirmed") == 1, 60)
    assert [u["sha256"] for u in admin.uploads("video")] == [sha(data)]  # one copy, adopted
    assert daemon.stop() == 0


def row_states(daemon: Daemon) -> list[tuple[str, int, int]]:
    """(state, attempts, lookup_due) of every file row, read as `status` would (read-only)."""
    with sqlite3.connect(f"file:{daemon.root / 'ledger.sqlite3'}?mode=ro", uri=True) as db:
        return sorted(db.execute("SELECT state, attempts, lookup_due FROM files").fetchall())


def test_a_worker_waiting_for_its_rate_limit_slot_claims_no_upload(daemon: Daemon, admin: Admin,
                                                                    tmp_path: Path) -> None:
    """The row says `uploading` only once the request leaves; a stop during the wait for the
    slot gives the attempt back, and nothing is looked up or counted against the file."""
    daemon.config.write_text(daemon.config.read_text().replace("rate_limit_per_minute = 6000",
                                                               "rate_limit_per_minute = 2"))
    daemon.start()
    (daemon.camera / "first.mp4").write_bytes(video_bytes(tmp_path, seconds=1))
    (daemon.camera / "second.mp4").write_bytes(video_bytes(tmp_path, seconds=1.5))
    until(lambda: len(admin.uploads("video")) == 1, 30)  # the second now waits 30 s for its slot
    until(lambda: ("ready", 1, 0) in row_states(daemon), 15)  # claimed (attempt 1), its request not started
    for _ in range(10):  # and so it stays while it waits: never `uploading`
        assert ("ready", 1, 0) in row_states(daemon), row_states(daemon)
        time.sleep(0.1)
    assert daemon.stop() == 0
    assert ("ready", 0, 0) in row_states(daemon)  # the stop was nobody's fault: attempt given back
    assert len(admin.uploads("video")) == 1
