"""Archive and delete: only a path still holding what was uploaded, never overwriting."""

from __future__ import annotations

import os
from pathlib import Path

from mavi_sync.after import apply, free_name
from mavi_sync.config.parse import build_config
from mavi_sync.ledger import Ledger
from mavi_sync.states import State


def setup(tmp_path: Path, action: str) -> tuple:  # type: ignore[type-arg]
    cam, archive = tmp_path / "cam", tmp_path / "archive"
    (cam / "day1").mkdir(parents=True)
    archive.mkdir()
    table = {"path": str(cam), "after_upload": action}
    if action == "archive":
        table["archive_dir"] = str(archive)
    config = build_config({"folders": [table]})
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    return cam, archive, config, ledger


def record(ledger: Ledger, path: Path, sha: str = "a" * 64) -> int:
    row = ledger.add(sha, "video", "default", path.stat().st_size)
    ledger.record_path(path, sha, path.stat(), str(path.parent), row.id)
    for state in (State.READY, State.UPLOADING, State.CONFIRMED):
        ledger.transition(row.id, state)
    return row.id


def test_archive_keeps_the_tree_and_never_overwrites(tmp_path: Path) -> None:
    cam, archive, config, ledger = setup(tmp_path, "archive")
    clip = cam / "day1" / "clip.mp4"
    clip.write_bytes(b"video")
    (archive / "day1").mkdir()
    (archive / "day1" / "clip.mp4").write_bytes(b"an older, different clip")
    [done] = apply(config, ledger, record(ledger, clip))
    assert done.action == "archived" and done.dest == archive / "day1" / "clip (1).mp4"
    assert done.dest.read_bytes() == b"video" and not clip.exists()
    assert (archive / "day1" / "clip.mp4").read_bytes() == b"an older, different clip"
    assert ledger.lookup_path(clip) is None
    ledger.close()


def test_delete_removes_only_an_unchanged_file(tmp_path: Path) -> None:
    cam, _archive, config, ledger = setup(tmp_path, "delete")
    same, changed = cam / "same.mp4", cam / "changed.mp4"
    same.write_bytes(b"one")
    changed.write_bytes(b"two")
    file_id = record(ledger, same)
    ledger.record_path(changed, "a" * 64, changed.stat(), str(cam), file_id)
    os.utime(changed, ns=(0, changed.stat().st_mtime_ns + 5_000_000_000))  # touched after upload
    results = {d.path.name: d for d in apply(config, ledger, file_id)}
    assert results["same.mp4"].action == "deleted" and not same.exists()
    assert results["changed.mp4"].action == "skipped" and "changed since" in results["changed.mp4"].detail
    assert changed.read_bytes() == b"two"
    ledger.close()


def test_keep_touches_nothing_and_a_gone_file_is_just_forgotten(tmp_path: Path) -> None:
    cam, _archive, config, ledger = setup(tmp_path, "delete")
    gone = cam / "gone.mp4"
    gone.write_bytes(b"x")
    file_id = record(ledger, gone)
    gone.unlink()
    [done] = apply(config, ledger, file_id)
    assert done.action == "skipped" and done.detail == "no longer there" and ledger.lookup_path(gone) is None
    ledger.close()
    cam2, _a, keep_config, ledger2 = setup(tmp_path / "k", "keep")
    kept = cam2 / "k.mp4"
    kept.write_bytes(b"k")
    assert apply(keep_config, ledger2, record(ledger2, kept)) == [] and kept.exists()
    ledger2.close()


def test_free_name_counts_up(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "a (1).jpg").write_bytes(b"")
    assert free_name(tmp_path / "a.jpg") == tmp_path / "a (2).jpg"
    assert free_name(tmp_path / "b.jpg") == tmp_path / "b.jpg"
