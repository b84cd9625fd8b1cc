"""docs/guides/camera-folder.md, "Network shares": a full rescan every `rescan_interval_s`
finds what no event announced. A share mounted over a watched subdirectory after the start sends no event at all (the watch is on
the directory it covers): only the rescan can find its files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import until


def test_the_rescan_finds_what_no_event_announced(spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    d = spawn(emulator.url, uploads="rescan_interval_s = 2\n")
    share = d.camera / "share"
    share.mkdir()
    elsewhere = tmp_path / "nas"
    write_image(elsewhere / "from-the-nas.jpg", ImageSpec(make="Canon"))
    d.start()
    until(lambda: d.events("walk_done"), 10)
    mounted = subprocess.run(["mount", "--bind", str(elsewhere), str(share)], capture_output=True, timeout=30)
    if mounted.returncode != 0:
        pytest.skip("bind-mounting needs privileges this machine does not give (CAP_SYS_ADMIN)")
    try:
        until(lambda: d.count("confirmed") == 1, 30)
        [upload] = admin.uploads()
        assert upload["filename"] == "from-the-nas.jpg"
        assert len(d.events("walk_done")) >= 2  # found by a rescan, not the start-up walk
    finally:
        subprocess.run(["umount", "-l", str(share)], capture_output=True, timeout=30)
    assert d.stop() == 0
