"""Intake: from watcher events and folder walks to paths ready for a worker.

Events and walks only *suggest* that a path may be ready; the settler (settle.py) decides
when it has stopped changing, and `enqueue` (the engine's) takes it from there. Paths with
nothing to upload (FIFOs, links not followed, unreadable entries) are recorded as skipped
with the reason, once.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from operator import itemgetter
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.pipeline import events
from mavi_sync.errors import LedgerError
from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.intake.scanner import Listing, mark, skip_reason, walk_dirs
from mavi_sync.intake.settle import Settler
from mavi_sync.ledger.store import Ledger
from mavi_sync.pipeline.stamp import Signature, signature


class Intake:
    """Walks, events and settling for every configured folder. Thread-safe: watchdog's
    thread, walk threads and the daemon's tick all call in."""

    def __init__(self, config: Config, ledger: Ledger, enqueue: Callable[[Path], None], *,
                 stop: threading.Event, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.ledger = ledger
        self.enqueue = enqueue
        self.stop = stop
        self.clock = clock
        self.settler = Settler()
        self._lock = threading.Lock()
        self._walks: list[threading.Thread] = []
        # A path that disappeared while it settled: one held back (unfinished) is decided by that.
        self.on_gone: Callable[[Path], None] = lambda path: None

    def __len__(self) -> int:
        """Paths still settling."""
        return len(self.settler)

    def on_event(self, path: Path, folder: FolderConfig, kind: str) -> None:
        """A watcher event (from watchdog's thread)."""
        if kind == "dir":
            self.walk_in_background(lambda: self.walk_dir(folder, path), "walk-new-dir")
            return
        if kind == "deleted":
            with self._lock:
                self.settler.forget(path)
            self.on_gone(path)
            return
        self._consider(path, folder, closed=(kind == "closed"))

    def walk_in_background(self, walk: Callable[[], object], name: str) -> None:
        """Run a walk on a thread of its own; join_walks() waits for them at shutdown."""
        thread = threading.Thread(target=walk, name=name, daemon=True)
        with self._lock:
            self._walks = [t for t in self._walks if t.is_alive()] + [thread]
        thread.start()

    def join_walks(self, timeout_s: float) -> None:
        """Wait (bounded) for background walks; each sees `stop` between directories."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            walks = list(self._walks)
        for thread in walks:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _consider(self, path: Path, folder: FolderConfig, *, closed: bool = False,
                  st: Optional[os.stat_result] = None, unknown: bool = False) -> None:
        """`unknown`: the caller already found no matching ledger row (the walk asks per directory)."""
        try:
            st = st or os.stat(path, follow_symlinks=False)
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            reason = skip_reason(path, folder)
            if reason is not None:
                self.skip(path, reason)
            return
        if not unknown and not closed:
            try:
                known = self.ledger.lookup_path(path)
            except LedgerError:  # (a fleet's database away): settle it; the worker meets the ledger's pause
                known = None
            if known is not None and known.matches(st):
                return  # unchanged since it was hashed: the scheduler owns it from here
        with self._lock:
            self.settler.seen(path, signature(st), folder.settle_s, time.monotonic(), self.clock(), closed=closed)

    def resettle(self, path: Path, hold: bool = False) -> None:
        """`path` back through settling before a worker gets it: a retry that is due, or a
        file that could not be read as media yet (`hold`: a whole settle time again). Every
        path reaches the queue settled; one that is gone or outside every folder goes
        straight on, for the worker to tidy its ledger rows."""
        folder = self.config.folder_for(path)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            st = None
        if folder is None or st is None or not stat.S_ISREG(st.st_mode):
            self.enqueue(path)
            return
        with self._lock:
            self.settler.seen(path, signature(st), folder.settle_s, time.monotonic(), self.clock(), hold=hold)

    def reconfigure(self, config: Config) -> None:
        self.config = config

    def walk(self) -> int:
        """Reconcile every folder with the ledger: unchanged known files are skipped without
        hashing; new and changed ones go to settle. Returns how many files were looked at."""
        seen = 0
        for folder in self.config.folders:
            seen += self.walk_dir(folder, folder.path)
        for raw, _reason, _at in self.ledger.skipped(limit=100_000):
            if not os.path.lexists(raw):  # the FIFO or link is gone: nothing left to explain
                self.ledger.unskip(raw)
        return seen

    def skip(self, path: Path, reason: str) -> None:
        """A path with nothing to upload: recorded with the reason, logged once."""
        if self.ledger.skip(path, reason):
            events.skipped_logged(str(path), reason)

    def walk_dir(self, folder: FolderConfig, top: Path) -> int:
        """Walk `top` (the folder or a directory inside it); a file whose size, mtime and inode
        match its ledger row costs one stat and is never read again. A directory whose mark
        (scanner.mark) is the ledger's costs one row, not one per file."""
        seen = 0
        visited: Optional[list[str]] = [] if top == folder.path else None  # a full walk: see below
        for listing in walk_dirs(folder, None if top == folder.path else top):
            if self.stop.is_set():
                return seen
            if listing.error:
                self.skip(Path(listing.directory), listing.error)
                visited = None  # what is under it went unseen, not away (an unmounted disk)
            elif visited is not None:
                visited.append(listing.directory)
            seen += len(listing.entries)
            if listing.entries:
                self._reconcile(folder, listing)
        if visited is not None:  # every directory of the folder was listed: marks of others are stale
            self.ledger.prune_marks(folder.path, visited)
        return seen

    def _reconcile(self, folder: FolderConfig, listing: Listing) -> None:
        """One directory's listing against the ledger: the new and changed files go to settle."""
        # Wall time, not self.clock: it is compared with the file system's ctime.
        marked = mark(listing, time.time())
        if marked is not None and self.ledger.mark_of(listing.directory) == marked:
            return  # the same files, unchanged, as when the ledger last knew them all
        known = self.ledger.known_in(listing.directory)
        news = [(name, st, problem) for name, st, problem in listing.entries
                if problem or st is None or known.get(name) != (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)]
        if not news and marked is not None:
            self.ledger.set_mark(listing.directory, marked, len(listing.entries))
        for name, st, problem in sorted(news, key=itemgetter(0)):  # in name order: NVR names are times
            if problem or st is None:
                self.skip(Path(listing.directory, name), problem or "cannot read")
            else:
                self._consider(Path(listing.directory, name), folder, st=st, unknown=True)

    def settle_tick(self) -> int:
        """Move settled files to the work queue; returns how many."""
        with self._lock:
            ready, gone = self.settler.due(time.monotonic(), _signature_of)
        for path in ready:
            self.enqueue(path)
        for path in gone:
            self.on_gone(path)
        return len(ready)


def _signature_of(path: Path) -> Optional[Signature]:
    try:
        return signature(os.stat(path, follow_symlinks=False))
    except OSError:
        return None
