"""When a file counts as completely written (pure, with a fake clock and stats)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from mavi_sync.intake.settle import CLOSE_GRACE_S, Settler

P = Path("/cam/a.mp4")
WALL = 1_000_000.0
M = int(WALL * 1e9)  # an mtime of "just now"


class Disk:
    def __init__(self) -> None:
        self.files: dict[Path, tuple[int, int]] = {}

    def __call__(self, path: Path) -> Optional[tuple[int, int]]:
        return self.files.get(path)


def test_a_file_is_ready_once_unchanged_for_the_settle_time() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = (10, M)
    s.seen(P, 10, M, settle_s=5, now=100, wall_now=WALL)
    assert s.due(104.9, disk) == ([], [])
    assert s.due(105.0, disk) == ([P], []) and len(s) == 0


def test_a_change_seen_late_restarts_the_wait() -> None:
    disk, s = Disk(), Settler()
    s.seen(P, 10, M, settle_s=5, now=100, wall_now=WALL)
    disk.files[P] = (20, M + 1)  # grew, but no event reached us
    assert s.due(105, disk) == ([], [])
    assert s.due(109.9, disk) == ([], []) and s.due(110, disk) == ([P], [])


def test_events_that_change_nothing_do_not_restart_the_wait() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = (10, M)
    s.seen(P, 10, M, settle_s=5, now=100, wall_now=WALL)
    s.seen(P, 10, M, settle_s=5, now=104, wall_now=WALL)
    assert s.due(105, disk) == ([P], [])


def test_closed_after_writing_needs_only_a_short_grace() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = (10, M)
    s.seen(P, 10, M, settle_s=30, now=100, wall_now=WALL, closed=True)
    assert s.due(100 + CLOSE_GRACE_S - 0.01, disk) == ([], [])
    assert s.due(100 + CLOSE_GRACE_S, disk) == ([P], [])


def test_a_file_older_than_its_settle_time_is_ready_at_once() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = (10, 1_000 * 10**9)
    s.seen(P, 10, 1_000 * 10**9, settle_s=10, now=500, wall_now=5_000)  # mtime 4000 s ago
    assert s.due(500, disk) == ([P], [])


def test_a_vanished_candidate_is_reported_and_dropped() -> None:
    disk, s = Disk(), Settler()
    s.seen(P, 10, M, settle_s=1, now=0, wall_now=WALL)
    assert s.due(2, disk) == ([], [P]) and len(s) == 0


def test_forget() -> None:
    s = Settler()
    s.seen(P, 1, M, settle_s=3, now=10, wall_now=WALL)
    assert len(s) == 1
    s.forget(P)
    assert len(s) == 0
