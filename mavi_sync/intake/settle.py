"""When is a file completely written? Pure: the caller supplies stats and the clock.

A file is ready when its size and mtime have not changed for the folder's settle
time, or, after the writer closed it (inotify's close-after-write), once it has
stayed unchanged for a short grace: NVRs that append in several open/close rounds
would otherwise be sent half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

CLOSE_GRACE_S = 1.0


@dataclass
class Candidate:
    size: int
    mtime_ns: int
    changed_at: float  # when we last saw size/mtime move
    settle_s: float
    closed: bool = False


StatFn = Callable[[Path], Optional[tuple[int, int]]]  # (size, mtime_ns) or None if gone


class Settler:
    """Candidates waiting to settle. Not thread-safe: the daemon's intake owns it."""

    def __init__(self) -> None:
        self.pending: dict[Path, Candidate] = {}

    def __len__(self) -> int:
        return len(self.pending)

    def seen(self, path: Path, size: int, mtime_ns: int, settle_s: float, now: float, wall_now: float,
             closed: bool = False) -> None:
        """Note an event (or a walk) for `path`. A file untouched for longer than its settle time
        (by its mtime: it was there before we looked) counts as settled at once."""
        old = self.pending.get(path)
        if old is not None and (old.size, old.mtime_ns) == (size, mtime_ns):
            old.closed = old.closed or closed
            return
        age = wall_now - mtime_ns / 1e9
        changed_at = now - age if old is None and age > settle_s else now
        self.pending[path] = Candidate(size, mtime_ns, changed_at, settle_s, closed)

    def forget(self, path: Path) -> None:
        self.pending.pop(path, None)

    def due(self, now: float, stat: StatFn) -> tuple[list[Path], list[Path]]:
        """(ready paths, vanished paths); both leave the pending set. Re-stats each candidate
        whose quiet period may be over, so a change seen only now restarts its wait."""
        ready, gone = [], []
        for path, c in list(self.pending.items()):
            wait = min(c.settle_s, CLOSE_GRACE_S) if c.closed else c.settle_s
            if now - c.changed_at < wait:
                continue
            current = stat(path)
            if current is None:
                gone.append(path)
                del self.pending[path]
            elif current != (c.size, c.mtime_ns):
                c.size, c.mtime_ns, c.changed_at, c.closed = current[0], current[1], now, False
            else:
                ready.append(path)
                del self.pending[path]
        return ready, gone
