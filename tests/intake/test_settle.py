"""When a file counts as completely written (pure, with a fake clock and stats)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from mavi_sync.intake.settle import Settler
from mavi_sync.pipeline.stamp import Signature

P = Path("/cam/a.mp4")
WALL = 1_000_000.0
M = int(WALL * 1e9)  # an mtime of "just now"


def sig(size: int, mtime_ns: int, ctime_ns: Optional[int] = None, inode: int = 7) -> Signature:
    return (size, mtime_ns, mtime_ns if ctime_ns is None else ctime_ns, inode)


class Disk:
    def __init__(self) -> None:
        self.files: dict[Path, Signature] = {}

    def __call__(self, path: Path) -> Optional[Signature]:
        return self.files.get(path)


def test_a_file_is_ready_once_unchanged_for_the_settle_time() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = sig(10, M)
    s.seen(P, sig(10, M), settle_s=5, now=100, wall_now=WALL)
    assert s.due(104.9, disk) == ([], [])
    assert s.due(105.0, disk) == ([P], []) and len(s) == 0


def test_a_change_seen_late_restarts_the_wait() -> None:
    disk, s = Disk(), Settler()
    s.seen(P, sig(10, M), settle_s=5, now=100, wall_now=WALL)
    disk.files[P] = sig(20, M + 1)  # grew, but no event reached us
    assert s.due(105, disk) == ([], [])
    assert s.due(109.9, disk) == ([], []) and s.due(110, disk) == ([P], [])


def test_events_that_change_nothing_do_not_restart_the_wait() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = sig(10, M)
    s.seen(P, sig(10, M), settle_s=5, now=100, wall_now=WALL)
    s.seen(P, sig(10, M), settle_s=5, now=104, wall_now=WALL)
    assert s.due(105, disk) == ([P], [])


def test_a_close_is_a_hint_not_proof_it_restarts_the_wait() -> None:
    """An NVR appending in open/append/close rounds closes the file after every round: a
    close must not make a prefix ready (it used to, after 1 s)."""
    disk, s = Disk(), Settler()
    disk.files[P] = sig(10, M)
    s.seen(P, sig(10, M), settle_s=30, now=100, wall_now=WALL, closed=True)
    assert s.due(101, disk) == ([], [])
    s.seen(P, sig(10, M), settle_s=30, now=120, wall_now=WALL, closed=True)  # closed again, nothing written
    assert s.due(149.9, disk) == ([], [])
    assert s.due(150, disk) == ([P], [])


def test_an_old_mtime_set_after_writing_does_not_make_a_file_ready_at_once() -> None:
    """`cp -p`, `rsync -t`: the data was just written, then the mtime set years back. The
    ctime, which no tool can set back, says it changed just now."""
    disk, s = Disk(), Settler()
    old = 1_000 * 10**9
    disk.files[P] = sig(10, old, ctime_ns=M)
    s.seen(P, sig(10, old, ctime_ns=M), settle_s=10, now=500, wall_now=WALL)
    assert s.due(509.9, disk) == ([], []) and s.due(510, disk) == ([P], [])


def test_a_file_renamed_over_the_path_is_a_change_even_at_the_same_size_and_times() -> None:
    disk, s = Disk(), Settler()
    s.seen(P, sig(10, M, inode=1), settle_s=5, now=100, wall_now=WALL)
    disk.files[P] = sig(10, M, inode=2)
    assert s.due(105, disk) == ([], []) and s.due(110, disk) == ([P], [])


def test_a_held_file_waits_a_whole_settle_time_even_when_old() -> None:
    """A file that could not be read as media yet settles again, however old its stamps."""
    disk, s = Disk(), Settler()
    disk.files[P] = sig(10, 1_000 * 10**9)
    s.seen(P, sig(10, 1_000 * 10**9), settle_s=10, now=500, wall_now=5_000, hold=True)
    assert s.due(509, disk) == ([], []) and s.due(510, disk) == ([P], [])


def test_a_file_older_than_its_settle_time_is_ready_at_once() -> None:
    disk, s = Disk(), Settler()
    disk.files[P] = sig(10, 1_000 * 10**9)
    s.seen(P, sig(10, 1_000 * 10**9), settle_s=10, now=500, wall_now=5_000)  # mtime 4000 s ago
    assert s.due(500, disk) == ([P], [])


def test_a_vanished_candidate_is_reported_and_dropped() -> None:
    disk, s = Disk(), Settler()
    s.seen(P, sig(10, M), settle_s=1, now=0, wall_now=WALL)
    assert s.due(2, disk) == ([], [P]) and len(s) == 0


def test_forget() -> None:
    s = Settler()
    s.seen(P, sig(1, M), settle_s=3, now=10, wall_now=WALL)
    assert len(s) == 1
    s.forget(P)
    assert len(s) == 0
