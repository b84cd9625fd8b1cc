"""Intake: walks against the ledger (directory marks) with real files and a real ledger."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from mavi_sync.config.parse import build_config
from mavi_sync.intake import Intake
from mavi_sync.intake.scanner import RACY_S
from mavi_sync.ledger.store import Ledger


def test_a_restart_walk_trusts_a_directory_mark_only_while_nothing_in_it_changed(tmp_path: Path) -> None:
    """Known, unchanged files are not considered again, whether their directory is checked
    row by row (first walk) or by its mark (later walks); and a mark hides no change."""
    cam = tmp_path / "cam"
    (cam / "2024").mkdir(parents=True)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for path in [cam / f"top{i}.mp4" for i in range(3)] + [cam / "2024" / f"clip{i}.mp4" for i in range(3)]:
        path.write_bytes(b"v" * 64)
        ledger.record_path(path, "d" * 64, path.stat(), str(cam))  # as if uploaded by an earlier run
    config = build_config({"folders": [{"path": str(cam)}]})
    intake = Intake(config, ledger, lambda path: None, stop=threading.Event())
    try:
        time.sleep(RACY_S + 0.1)  # directories changed just now get no mark
        assert intake.walk() == 6 and len(intake.settler) == 0
        assert ledger.mark_of(cam) is not None and ledger.mark_of(cam / "2024") is not None
        assert intake.walk() == 6 and len(intake.settler) == 0  # by the marks this time
        (cam / "2024" / "clip0.mp4").write_bytes(b"w" * 64)  # rewritten in place, same size
        (cam / "top1.mp4").rename(cam / "renamed.mp4")  # same stat, new name
        intake.walk()
        assert sorted(p.name for p in intake.settler.pending) == ["clip0.mp4", "renamed.mp4"]
    finally:
        ledger.close()


def test_a_full_walk_drops_the_marks_of_directories_that_are_gone_but_not_of_unseen_ones(
                                                                                        tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    days = [cam / "2024-01-01", cam / "2024-01-02"]
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for day in days:
        day.mkdir(parents=True)
        clip = day / "clip.mp4"
        clip.write_bytes(b"v" * 64)
        ledger.record_path(clip, "d" * 64, clip.stat(), str(cam))
    config = build_config({"folders": [{"path": str(cam)}]})
    intake = Intake(config, ledger, lambda path: None, stop=threading.Event())
    try:
        time.sleep(RACY_S + 0.1)  # directories changed just now get no mark
        intake.walk()
        assert all(ledger.mark_of(day) is not None for day in days)
        intake.walk_dir(config.folders[0], days[0])  # a walk of one directory prunes nothing
        assert ledger.mark_of(days[1]) is not None
        (days[1] / "clip.mp4").unlink()
        days[1].rmdir()  # the NVR rotated the oldest day out
        intake.walk()
        assert ledger.mark_of(days[1]) is None and ledger.mark_of(days[0]) is not None
        cam.rename(tmp_path / "unmounted")  # the whole folder unseen: nothing is pruned
        intake.walk()
        assert ledger.mark_of(days[0]) is not None
    finally:
        ledger.close()


def test_a_path_that_disappears_while_it_settles_is_reported_gone(tmp_path: Path) -> None:
    """A file held back (not finished yet) and then deleted is decided by that: intake says
    so, whether the deletion was an event or found when it was due."""
    cam = tmp_path / "cam"
    cam.mkdir()
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    config = build_config({"folders": [{"path": str(cam), "settle_s": 0}]})
    intake = Intake(config, ledger, lambda path: None, stop=threading.Event())
    gone: list[Path] = []
    intake.on_gone = gone.append
    try:
        a, b = cam / "a.mp4", cam / "b.mp4"
        for path in (a, b):
            path.write_bytes(b"\0" * 10)
            intake.resettle(path, hold=True)
        a.unlink()
        intake.on_event(a, config.folders[0], "deleted")
        b.unlink()  # unseen: found gone when its wait is over
        intake.settle_tick()
        assert gone == [a, b] and len(intake) == 0
    finally:
        ledger.close()
