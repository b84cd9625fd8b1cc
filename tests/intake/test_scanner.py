"""Walking real folders: filters, symlinks, loops, directory marks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mavi_sync.config import build_config
from mavi_sync.config.schema import FolderConfig
from mavi_sync.intake.scanner import RACY_S, mark, walk_dirs, walk_folder


def names(folder: FolderConfig) -> list[str]:
    """The files the walk offers for upload (not those it skips with a reason)."""
    return [f.path.relative_to(folder.path).as_posix() for f in walk_folder(folder) if not f.problem]


def skipped(folder: FolderConfig) -> dict[str, str]:
    return {f.path.relative_to(folder.path).as_posix(): f.problem for f in walk_folder(folder) if f.problem}


def test_walk_skips_temp_names_hidden_and_nas_dirs(tmp_path: Path) -> None:
    for rel in ("a.jpg", "sub/b.mp4", "c.mp4.part", ".hidden.jpg", "@eaDir/thumb.jpg", ".Trash-0/x.jpg",
                "#recycle/y.jpg", "sub/deeper/d.jpg"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert names(FolderConfig(path=tmp_path)) == ["a.jpg", "sub/b.mp4", "sub/deeper/d.jpg"]
    assert names(FolderConfig(path=tmp_path, recursive=False)) == ["a.jpg"]


def test_symlinks_are_not_followed_by_default_and_never_leave_the_folder(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    (root / "real" / "a.jpg").write_bytes(b"x")
    (outside / "secret.jpg").write_bytes(b"x")
    os.symlink(outside, root / "escape")
    os.symlink(root / "real", root / "alias")
    os.symlink(root, root / "real" / "loop")
    os.symlink(root / "nowhere", root / "dangling.jpg")
    assert names(FolderConfig(path=root)) == ["real/a.jpg"]
    assert set(skipped(FolderConfig(path=root)).values()) == {"a symlink, not followed (the folder's "
                                                              "follow_symlinks is off)"}
    followed = FolderConfig(path=root, follow_symlinks=True)
    assert "escape/secret.jpg" not in names(followed)
    assert names(followed) == ["real/a.jpg"]  # alias and loop lead to directories already walked
    reasons = skipped(followed)  # each skip says why
    assert "outside the folder" in reasons["escape"] and "broken or looping" in reasons["dangling.jpg"]


def test_special_files_are_reported_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.mp4")
    found = list(walk_folder(FolderConfig(path=tmp_path)))
    assert len(found) == 1 and "not a regular file" in found[0].problem


def test_archive_dir_is_not_walked(tmp_path: Path) -> None:
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "a.jpg").write_bytes(b"x")
    (tmp_path / "b.jpg").write_bytes(b"x")
    folder = FolderConfig(path=tmp_path, after_upload="archive", archive_dir=tmp_path / "done")
    assert names(folder) == ["b.jpg"]


def test_walk_applies_include_and_exclude_globs_also_from_a_subdirectory(tmp_path: Path) -> None:
    for rel in ("a.mp4", "b.MP4", "c.jpg", "stills/d.jpg", "stills/e_preview.jpg", "other/f.jpg",
                "2024/g.mp4", "2024/h_preview.mp4"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    folder = FolderConfig(path=tmp_path, include=("*.mp4", "*.MP4", "stills/*.jpg"), exclude=("*preview*",))
    assert names(folder) == ["a.mp4", "b.MP4", "2024/g.mp4", "stills/d.jpg"]  # a directory, then its subdirectories
    # A directory that appears later is walked on its own, with paths still relative to the folder.
    assert [f.path.name for f in walk_folder(folder, tmp_path / "stills")] == ["d.jpg"]


# -- directory marks: what lets a restart skip the ledger rows of an unchanged directory -----
def _mark_now(folder: FolderConfig, later_s: float = RACY_S + 1) -> int | None:
    """The top directory's mark, as a walk `later_s` from now would take it."""
    [listing] = [lst for lst in walk_dirs(folder) if lst.directory == str(folder.path)]
    return mark(listing, time.time() + later_s)


def _marked_folder(tmp_path: Path) -> FolderConfig:
    cam = tmp_path / "cam"
    cam.mkdir()
    for i in range(5):
        (cam / f"clip{i}.mp4").write_bytes(b"v" * (100 + i))
    return build_config({"folders": [{"path": str(cam), "recursive": False}]}).folders[0]


def test_a_mark_changes_with_any_file_change_and_with_any_name_change(tmp_path: Path) -> None:
    folder = _marked_folder(tmp_path)
    cam = folder.path
    first = _mark_now(folder)
    assert first is not None and first == _mark_now(folder)
    marks = {first}
    changes = [
        lambda: (cam / "clip0.mp4").write_bytes(b"w" * 100),  # same size, new mtime (an NVR rewriting)
        lambda: _append(cam / "clip1.mp4", b"more"),
        lambda: (cam / "clip2.mp4").rename(cam / "renamed.mp4"),  # same stat, new name: the directory's ctime
        lambda: (cam / "new.mp4").write_bytes(b"n"),
        lambda: (cam / "clip3.mp4").unlink(),
    ]
    for change in changes:
        time.sleep(0.05)  # past the file system's timestamp tick
        change()
        changed = _mark_now(folder)
        assert changed is not None and changed not in marks
        marks.add(changed)


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def test_no_mark_for_a_directory_changed_just_now_or_an_entry_with_a_problem(tmp_path: Path) -> None:
    folder = _marked_folder(tmp_path)
    assert _mark_now(folder, later_s=0) is None  # racy: a change within the same tick could hide
    os.mkfifo(folder.path / "pipe.mp4")
    assert _mark_now(folder) is None


def test_a_mark_is_the_same_in_every_process(tmp_path: Path) -> None:
    """The daemon restarts with another string-hash seed: marks must not depend on it."""
    folder = _marked_folder(tmp_path)
    code = ("import sys, time; from mavi_sync.config import build_config; from mavi_sync.intake.scanner import mark, walk_dirs; "
            "f = build_config({'folders': [{'path': sys.argv[1], 'recursive': False}]}).folders[0]; "
            "print(mark(next(walk_dirs(f)), time.time() + 10))")
    seen = {subprocess.run([sys.executable, "-c", code, str(folder.path)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, timeout=60).stdout.strip()
            for seed in ("1", "2", "random")}
    assert len(seen) == 1 and seen != {"None"}


def test_the_walk_never_offers_a_caption_sidecar(tmp_path: Path) -> None:
    for rel in ("cam1/clip.mp4", "cam1/clip.mp4.caption.txt", "results/cam1/other.mp4.caption.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert names(FolderConfig(path=tmp_path, caption_sidecar="beside")) == ["cam1/clip.mp4"]
    assert names(FolderConfig(path=tmp_path, exclude=["nothing*"])) == ["cam1/clip.mp4"]  # the slow path too
