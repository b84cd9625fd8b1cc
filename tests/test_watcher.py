"""The watchdog adapter: events in real folders reach the daemon, filtered; the inotify budget check."""

from __future__ import annotations

import time
from pathlib import Path

from mavi_sync.config.parse import build_config
from mavi_sync.config.schema import FolderConfig
from mavi_sync.watcher import Watcher, inotify_shortfall


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


def test_a_folder_set_to_poll_is_polled(tmp_path: Path) -> None:
    folder = FolderConfig(path=tmp_path, watch="poll")
    watcher = Watcher((folder,), lambda *a: None)
    watcher.start()
    watcher.stop()
    assert watcher.modes == {tmp_path: "poll"}
