"""docs/design/daemon.md, "Finding files" and docs/guides/systemd.md, "Logs": all folders
share one inotify instance; there is one log line per file transition, with fixed keys."""

from __future__ import annotations

import os
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, write_image
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
