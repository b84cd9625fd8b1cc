"""docs/design/daemon.md, "Finding files" and docs/guides/systemd.md, "Logs": all folders
share one inotify instance; there is one log line per file transition, with fixed keys."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import until


def test_folders_share_one_inotify_instance_and_lines_carry_fixed_keys(spawn, emulator, admin: Admin,
                                                                         tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    d = spawn(emulator.url)
    d.write_config(emulator.url, folders=(f'[[folders]]\npath = "{d.camera}"\nsettle_s = 1\n'
                                          f'[[folders]]\npath = "{second}"\nsettle_s = 1\n'))
    d.start()
    until(lambda: d.events("daemon_started"), 10)
    assert d.proc is not None
    fds = Path(f"/proc/{d.proc.pid}/fd")
    inotify = [fd for fd in fds.iterdir() if os.readlink(fd) == "anon_inode:inotify"]
    assert len(inotify) == 1, inotify
    write_image(d.camera / "a.jpg", ImageSpec(make="Canon"))
    admin.script({"path": "/serve/api/v1/upload_img", "action": "error", "count": 6})  # a retry round (two workers)
    write_image(second / "b.jpg", ImageSpec(make="Nikon"))
    until(lambda: d.count("confirmed") == 2, 40)
    for event in d.events("upload_succeeded"):
        assert {"path", "sha256", "size", "target", "attempt", "duration_ms"} <= set(event), event
    retrying = d.events("upload_retrying")
    assert retrying and all({"path", "sha256", "size", "target", "attempt", "error"} <= set(e) for e in retrying)
    assert d.stop() == 0


def _lines_of(d, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """The events of the daemon's JSON log that name `path`."""
    lines = [json.loads(line) for line in d.logs().splitlines() if line.startswith("{")]
    return [line["event"] for line in lines if line.get("path") == str(path)]


def test_a_file_that_waits_is_logged_when_it_starts_waiting_and_when_decided(spawn, emulator, admin: Admin,
                                                                             tmp_path: Path) -> None:
    """Seen in the field: 442 of 513 lines were `file_unfinished`, 7 bad files logged every
    settle interval for the whole grace. Each now says it waits once, and is decided once."""
    d = spawn(emulator.url, settle_s=0.2, incomplete_grace_s=4)
    d.start()
    bad = [d.camera / f"cut{i}.mp4" for i in range(5)] + [d.camera / "cut.jpg"]
    clip = write_video(tmp_path / "clip.mp4", VideoSpec(seconds=1)).read_bytes()
    for i, path in enumerate(bad[:5]):
        path.write_bytes(clip[: len(clip) // 3 + i])  # cut short: no moov yet, as a recorder pausing leaves it
    photo = write_image(tmp_path / "p.jpg", ImageSpec(make="Canon")).read_bytes()
    bad[5].write_bytes(photo[: len(photo) // 2])
    good = write_image(d.camera / "good.jpg", ImageSpec(make="Nikon"))
    until(lambda: d.count("rejected") == len(bad), 60)  # every bad one refused once its grace is over
    until(lambda: d.count("confirmed") == 1, 30)
    for path in bad:
        assert _lines_of(d, path) == ["file_unfinished", "media_rejected"], (path, _lines_of(d, path))
    [rejected] = [e for e in d.events("media_rejected") if e["path"] == str(bad[0])]
    assert rejected["waited_s"] >= 3, rejected  # the decision says how long it waited
    assert _lines_of(d, good) == ["upload_succeeded"]
    assert d.stop() == 0
    # The whole session at the default level: a handful of lines per file, not one per settle interval.
    lines = [json.loads(line) for line in d.logs().splitlines() if line.startswith("{")]
    told = [line for line in lines if line["level"] != "debug"]
    assert len(told) < 15 + 3 * (len(bad) + 1), [line["event"] for line in told]
