"""When is a file completely written? Pure: the caller supplies stats and the clock.

A file is ready once its signature (size, mtime, ctime, inode) has not changed for the
folder's `settle_s`, counted from the last change seen *or the last close*. A close is a
hint, never proof: NVRs append a clip in open/append/close rounds, FTP and SMB servers
close and reopen as data arrives, so a close only restarts the wait (it used to shorten
it to 1 s, and a recorder's five rounds became five uploads). The signature
(stamp.py) holds the ctime, which no tool can set back: `cp -p`, `rsync -t` and camera
apps that give a finished file an old mtime still show a fresh change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.pipeline.stamp import Signature, last_change_s


@dataclass
class Candidate:
    sig: Signature
    changed_at: float  # (monotonic) when we last saw it change, or last heard it closed
    settle_s: float


StatFn = Callable[[Path], Optional[Signature]]  # None if gone


class Settler:
    """Candidates waiting to settle. Not thread-safe: the daemon's intake owns it."""

    def __init__(self) -> None:
        self.pending: dict[Path, Candidate] = {}

    def __len__(self) -> int:
        return len(self.pending)

    def seen(self, path: Path, sig: Signature, settle_s: float, now: float, wall_now: float,
             closed: bool = False, hold: bool = False) -> None:
        """Note an event, a walk or a retry for `path`. A file whose own timestamps say it
        has not changed for longer than its settle time (it was there before we looked)
        counts as settled at once, unless `hold`: a file that looked unfinished when read
        waits a whole settle time again. A close restarts the wait, as a write does."""
        old = self.pending.get(path)
        if old is not None and old.sig == sig and not closed:
            return
        age = wall_now - last_change_s(sig)
        changed_at = now - age if old is None and age > settle_s and not hold else now
        self.pending[path] = Candidate(sig, changed_at, settle_s)

    def forget(self, path: Path) -> None:
        self.pending.pop(path, None)

    def due(self, now: float, stat: StatFn) -> tuple[list[Path], list[Path]]:
        """(ready paths, vanished paths); both leave the pending set. Re-stats each candidate
        whose quiet period may be over, so a change seen only now restarts its wait."""
        ready, gone = [], []
        for path, c in list(self.pending.items()):
            if now - c.changed_at < c.settle_s:
                continue
            current = stat(path)
            if current is None:
                gone.append(path)
                del self.pending[path]
            elif current != c.sig:
                c.sig, c.changed_at = current, now
            else:
                ready.append(path)
                del self.pending[path]
        return ready, gone
