"""The watchdog adapter: events in real folders reach the daemon, filtered; the inotify budget check."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from mavi_sync.config.parse import build_config
from mavi_sync.config.schema import FolderConfig
from mavi_sync.intake.watcher import Watcher, inotify_shortfall


def test_a_tree_within_the_watch_budget_is_fine(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"d{i}" / "sub").mkdir(parents=True)
    assert inotify_shortfall(tmp_path, recursive=True) == ""


def test_events_are_filtered_and_reported(tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    (cam / "@eaDir").mkdir(parents=True)
    config = build_config({"folders": [{"path": str(cam)}]})
    seen: list[tuple[str, str]] = []
    watcher = Watcher(config.folders, lambda p, f, kind: seen.append((p.name, kind)))
    watcher.start()
    try:
        assert watcher.modes == {cam: "inotify"}
        (cam / "clip.mp4.part").write_bytes(b"x")  # a temp name: ignored until renamed
        (cam / "@eaDir" / "thumb.jpg").write_bytes(b"x")  # NAS litter: ignored
        (cam / "clip.mp4.part").rename(cam / "clip.mp4")
        (cam / "clip.mp4.caption.txt").write_text("a caption")  # what mavi-sync writes itself: ignored
        (cam / "new").mkdir()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not {("clip.mp4", "changed"), ("new", "dir")} <= set(seen):
            time.sleep(0.05)
    finally:
        watcher.stop()
    assert ("clip.mp4", "changed") in seen and ("new", "dir") in seen
    # (a "deleted" for the .part is harmless: it only drops a settle candidate)
    assert not [name for name, kind in seen if name in ("clip.mp4.part", "thumb.jpg") and kind != "deleted"]
    assert not [name for name, _ in seen if name == "thumb.jpg"]
    assert not [name for name, kind in seen if name == "clip.mp4.caption.txt" and kind != "deleted"]


def test_a_folder_set_to_poll_is_polled(tmp_path: Path) -> None:
    folder = FolderConfig(path=tmp_path, watch="poll")
    watcher = Watcher((folder,), lambda *a: None)
    watcher.start()
    watcher.stop()
    assert watcher.modes == {tmp_path: "poll"}


def _watched_inodes() -> set[int]:
    """Inodes this process holds inotify watches on, as the kernel lists them."""
    return set(_watches())


def _watches() -> dict[int, int]:
    """{inode: event mask} of this process's inotify watches, as the kernel lists them."""
    watches: dict[int, int] = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            info = Path(f"/proc/self/fdinfo/{fd}").read_text()
        except OSError:
            continue
        for ino, mask in re.findall(r"^inotify wd:\S+ ino:([0-9a-f]+) .*?mask:([0-9a-f]+)", info, re.M):
            watches[int(ino, 16)] = int(mask, 16)
    return watches


def test_reads_are_not_watched(tmp_path: Path) -> None:
    """The daemon reads every file it hashes and sends: opens and no-write closes must not
    come back as events (two per file read, handled in Python), only writes and renames."""
    in_open, in_close_nowrite, in_close_write, in_moved_to = 0x20, 0x10, 0x08, 0x80
    (tmp_path / "sub").mkdir()
    config = build_config({"folders": [{"path": str(tmp_path)}]})
    seen: list[tuple[str, str]] = []
    watcher = Watcher(config.folders, lambda p, f, kind: seen.append((p.name, kind)))
    watcher.start()
    try:
        time.sleep(0.2)
        masks = {ino: mask for ino, mask in _watches().items()
                 if ino in {tmp_path.stat().st_ino, (tmp_path / "sub").stat().st_ino}}
        (tmp_path / "a.jpg").write_bytes(b"x")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and ("a.jpg", "closed") not in seen:
            time.sleep(0.05)
        seen.clear()
        for _ in range(3):
            (tmp_path / "a.jpg").read_bytes()
        time.sleep(0.3)
    finally:
        watcher.stop()
    assert len(masks) == 2
    for mask in masks.values():
        assert mask & (in_open | in_close_nowrite) == 0, hex(mask)
        assert mask & in_close_write and mask & in_moved_to, hex(mask)
    assert seen == []


def test_excluded_directories_are_never_watched(tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    kept = [cam, cam / "2024" / "01", cam / "2024"]
    skipped = [cam / "@eaDir", cam / "@eaDir" / "deep", cam / "#recycle", cam / ".Trash-1000",
               cam / "2024" / ".hidden", cam / "done", cam / "done" / "2023"]
    for d in kept + skipped:
        d.mkdir(parents=True, exist_ok=True)
    config = build_config({"folders": [{"path": str(cam), "after_upload": "archive",
                                        "archive_dir": str(cam / "done")}]})
    seen: list[str] = []
    watcher = Watcher(config.folders, lambda p, f, kind: seen.append(p.name))
    watcher.start()
    try:
        (cam / "2024" / "new").mkdir()  # created while watched: watched too
        (cam / "2024" / "@eaDir").mkdir()  # created while watched, but excluded: not watched
        (cam / "2024" / "new" / "a.jpg").write_bytes(b"x")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "a.jpg" not in seen:
            time.sleep(0.05)
        (cam / "@eaDir" / "SYNOPHOTO_THUMB.jpg").write_bytes(b"x")
        (cam / "done" / "2023" / "old.jpg").write_bytes(b"x")
        time.sleep(0.3)
        watched = _watched_inodes()
    finally:
        watcher.stop()
    assert "a.jpg" in seen
    assert {d.stat().st_ino for d in kept + [cam / "2024" / "new"]} <= watched
    never = [str(d) for d in skipped + [cam / "2024" / "@eaDir"] if d.stat().st_ino in watched]
    assert never == [], f"excluded directories got inotify watches: {never}"
    assert not {"SYNOPHOTO_THUMB.jpg", "old.jpg"} & set(seen)


def test_the_budget_probe_counts_only_watched_directories(tmp_path: Path) -> None:
    from mavi_sync.intake.watcher import pruner
    (tmp_path / "@eaDir" / "x").mkdir(parents=True)
    (tmp_path / "keep").mkdir()
    folder = build_config({"folders": [{"path": str(tmp_path)}]}).folders[0]
    pruned = pruner(folder)
    assert pruned(str(tmp_path / "@eaDir")) and pruned(str(tmp_path / "@eaDir" / "x"))
    assert not pruned(str(tmp_path)) and not pruned(str(tmp_path / "keep"))


def _tree_with_leaves(root: Path) -> set[str]:
    """Directories to watch under `root` (returned), plus what must not be: a symlink to a
    directory, an excluded directory, and files."""
    kept = [root / "2024-01-01" / f"{h:02d}" for h in range(3)] + [root / "2024-01-01" / "00" / "deep" / "er"]
    for d in kept:
        d.mkdir(parents=True)
        (d / "clip.mp4").write_bytes(b"x")
    (root / "@eaDir" / "thumbs").mkdir(parents=True)
    (root / "link").symlink_to(root / "2024-01-01")
    return {str(root), str(root / "2024-01-01"), str(root / "2024-01-01" / "00" / "deep")} | {str(d) for d in kept}


def test_watched_dirs_finds_the_same_directories_whether_link_counts_are_trusted_or_not(tmp_path: Path) -> None:
    from mavi_sync.intake.watcher import Subtree, pruner, watched_dirs
    expected = _tree_with_leaves(tmp_path / "cam")
    folder = build_config({"folders": [{"path": str(tmp_path / "cam")}]}).folders[0]
    trusted = Subtree(pruner(folder), os.stat(tmp_path).st_dev)
    untrusted = Subtree(pruner(folder))
    assert set(watched_dirs(str(tmp_path / "cam"), trusted)) == expected
    assert set(watched_dirs(str(tmp_path / "cam"), untrusted)) == expected


def test_leaf_directories_are_not_listed_where_link_counts_are_trusted(tmp_path: Path) -> None:
    """The kernel says whether a directory was listed: reading it moves its access time
    (relatime does, when the access time is behind the modification time)."""
    from mavi_sync.intake.watcher import Subtree, watched_dirs
    leaf = tmp_path / "cam" / "00"
    leaf.mkdir(parents=True)
    (leaf / "clip.mp4").write_bytes(b"x")

    def arm() -> int:
        mtime = leaf.stat().st_mtime_ns
        os.utime(leaf, ns=(mtime - 100 * 10**9, mtime))
        return leaf.stat().st_atime_ns

    def listed(tree: Subtree) -> bool:
        before = arm()
        assert str(leaf) in set(watched_dirs(str(tmp_path / "cam"), tree))  # found either way
        return leaf.stat().st_atime_ns != before

    untrusted = Subtree(lambda _p: False)
    if not listed(untrusted):
        pytest.skip("this file system does not move access times on reads (noatime)")
    assert leaf.stat().st_nlink == 2, "the test folder's file system does not count subdirectories"
    assert not listed(Subtree(lambda _p: False, leaf.stat().st_dev))


def test_link_counts_are_trusted_only_on_file_systems_that_keep_them(tmp_path: Path) -> None:
    from mavi_sync.intake.watcher import subtree
    folder = build_config({"folders": [{"path": str(tmp_path)}]}).folders[0]
    assert subtree(folder, [("/", "ext4")]).leaf_dev == os.stat(tmp_path).st_dev
    for kind in ("btrfs", "nfs4", "fuse.sshfs", "unknown"):
        assert subtree(folder, [("/", kind)]).leaf_dev is None, kind
