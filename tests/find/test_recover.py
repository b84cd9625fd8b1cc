"""`mavi-sync recover`: a lost ledger rebuilt from the server's sha256 tags (and a copy)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pytest

from mavi_sync.config.parse import build_config
from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.errors import MaviSyncError
from mavi_sync.find.recover import recover
from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State
from tests.find.rig import Box


@pytest.fixture
def box(emulator, tmp_path: Path) -> Iterator[Box]:  # type: ignore[no-untyped-def]
    b = Box(emulator.url, tmp_path, ledger={"backup_dir": str(tmp_path / "copies")})
    yield b
    b.close()


def lose(box: Box) -> None:
    """The box's disk died: its ledger is gone, its watched files are back from elsewhere."""
    box.ledger.close()
    for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        (box.root / name).unlink(missing_ok=True)


def rows(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT sha256, target, namespace, state, remote_id FROM files ORDER BY sha256").fetchall()
    finally:
        db.close()


def test_a_new_box_with_the_old_folders_sends_nothing_already_sent(box: Box, admin) -> None:
    videos = [box.video(f"v{i}.mp4", seconds=0.3 + i / 10) for i in range(3)]
    for path in videos:
        box.send(path)
    photo = write_image(box.cam / "p.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    lose(box)
    result = box.cli("recover")
    assert result.returncode == 0, result.stderr
    assert "recovered 3 video row(s) from the server (default): 3 confirmed, 0 still processing" in result.stdout
    assert ("cannot be recovered from the server: images, security clips and v2 assets (no endpoint lists them). "
            "Remedy: a copy of the ledger") in result.stdout
    again = box.cli("upload", "--json", *map(str, videos), str(photo))
    assert again.returncode == 0, again.stderr
    details = {Path(r["path"]).name: r["detail"] for r in json.loads(again.stdout)}
    assert all(details[f"v{i}.mp4"].startswith("already uploaded") for i in range(3))
    assert len(admin.uploads("video")) == 3 and len(admin.uploads("image")) == 1  # the photo went now: new


def test_an_existing_ledger_is_never_replaced_without_force(box: Box) -> None:
    box.send(box.video("a.mp4"))
    box.ledger.close()
    before = hashlib.sha256(box.ledger_path.read_bytes()).hexdigest(), box.ledger_path.stat().st_mtime_ns
    result = box.cli("recover")
    assert result.returncode == 1 and "already exists (1 row(s)); recover builds a new one" in result.stderr
    assert "mavi-sync recover --force" in result.stderr
    assert (hashlib.sha256(box.ledger_path.read_bytes()).hexdigest(), box.ledger_path.stat().st_mtime_ns) == before
    forced = box.cli("recover", "--force")
    assert forced.returncode == 0, forced.stderr
    [kept] = box.root.glob("ledger.sqlite3.before-recover-*")
    assert rows(kept) == rows(box.ledger_path) and f"the one before is kept at {kept}" in forced.stdout


def test_a_running_daemon_is_not_pulled_out_from_under(box: Box) -> None:
    box.ledger.set_daemon(heartbeat=str(time.time()), pid="4242")
    with pytest.raises(MaviSyncError, match="the daemon is running"):
        recover(box.config, box.client, force=True)


def test_failed_processing_untagged_and_processing_videos(box: Box, admin) -> None:
    tag = lambda n: [f"sha256:{hashlib.sha256(str(n).encode()).hexdigest()}"]  # noqa: E731
    admin.seed([{"tags": tag(1), "status": "FAILED"}, {"tags": ["holiday"]}, {"tags": tag(2), "status": "UNPARSE",
                "camera_model": "Porch", "datetime_taken": "2024-05-01 10:00:00"}, {"tags": tag(3)}])
    lose(box)
    done = recover(box.config, box.client)
    assert (done.added, done.confirmed, done.processing, done.failed_there, done.untagged) == (2, 1, 1, 1, 1)
    with Ledger(box.ledger_path) as ledger:
        processing = ledger.get(hashlib.sha256(b"2").hexdigest(), "video", "default")
        assert processing is not None and processing.state is State.UPLOADED and processing.next_poll_at
        assert processing.capture_time == "2024-05-01T10:00:00"
        assert processing.metadata and processing.metadata["camera_model"] == "Porch"
        assert ledger.get(hashlib.sha256(b"1").hexdigest(), "video", "default") is None  # sent again


def test_a_copy_is_put_back_and_the_servers_videos_since_are_added(box: Box, admin) -> None:
    box.send(box.video("before.mp4"))
    photo = write_image(box.cam / "p.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    box.cli("upload", str(photo))
    assert box.cli("backup-ledger").returncode == 0
    box.send(box.video("after.mp4", seconds=0.6))
    lose(box)
    result = box.cli("recover", "--backup")
    assert result.returncode == 0, result.stderr
    [copy] = (box.root / "copies").iterdir()
    assert result.stdout.startswith(f"restored the copy {copy}\n")
    assert "cannot be recovered" not in result.stdout
    got = rows(box.ledger_path)
    assert sorted(r[1] for r in got) == ["image", "video", "video"] and all(r[3] == "confirmed" for r in got)


def test_offline_puts_back_the_copy_alone_and_a_damaged_copy_is_refused(box: Box, admin) -> None:
    box.send(box.video("a.mp4"))
    assert box.cli("backup-ledger").returncode == 0
    [copy] = (box.root / "copies").iterdir()
    before = rows(box.ledger_path)
    lose(box)
    requests = admin.stats()["total_requests"]
    result = box.cli("recover", "--backup", str(copy), "--offline")
    assert result.returncode == 0, result.stderr
    assert rows(box.ledger_path) == before and admin.stats()["total_requests"] == requests
    damaged = box.root / "damaged.sqlite3"
    shutil.copy(copy, damaged)
    with open(damaged, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\xff" * 4000)
    lose(box)
    bad = box.cli("recover", "--backup", str(damaged), "--offline")
    assert bad.returncode == 1 and str(damaged) in bad.stderr and not box.ledger_path.exists()


def test_a_fleet_has_nothing_to_recover(tmp_path: Path) -> None:
    (tmp_path / "cam").mkdir()
    config = build_config({"folders": [{"path": str(tmp_path / "cam")}],
                           "fleet": {"database": "postgresql://mavi@db.example/mavi"}})
    with pytest.raises(MaviSyncError, match="in a fleet the ledger is the fleet database's"):
        recover(config, None)


def test_a_recover_cut_short_leaves_nothing_half_built(box: Box, admin) -> None:
    admin.seed([{"tags": [f"sha256:{'a' * 64}"]}])
    lose(box)
    admin.faults(error_rate=1.0)  # every page fails: the listing cannot be finished
    result = box.cli("recover")
    assert result.returncode == 1 and "server error" in result.stderr
    assert sorted(p.name for p in box.root.iterdir() if p.name.startswith("ledger")) == []
