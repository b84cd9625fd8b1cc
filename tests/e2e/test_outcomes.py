"""What happens after an attempt, end to end: a remote FAILED is retried after the cool-down,
and "look before sending again" survives every failure until the server holds the video."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import Daemon, sha, until, video_bytes

UPLOAD, LOOKUP = "/serve/api/v1/upload", "/serve/api/v1/list_videos"


def events(daemon: Daemon, name: str) -> list[dict[str, object]]:
    out = []
    for line in daemon.logs().splitlines():
        if f'"event": "{name}"' in line:
            out.append(json.loads(line))
    return out


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
    failed = events(d, "upload_failed")
    assert len(failed) == 1 and "could not process" in str(failed[0]["error"]), failed
    assert not events(d, "follower_error")
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
