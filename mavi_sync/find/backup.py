"""Consistent copies of the ledger ([ledger] backup_dir), and putting one back.

A copy is made with SQLite's online backup API in one step: a snapshot of the database as
of one moment (with what the WAL holds), taken while the daemon goes on writing. It is
written under a temporary name and renamed, so a copy that exists is whole; the newest
`backup_keep` are kept. The daemon makes one when the newest is older than
`backup_interval_s` (at start too); `mavi-sync backup-ledger` makes one now.

This is the remedy for what the server cannot give back (`recover` rebuilds video rows
only: no endpoint lists images, security clips or v2 assets).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.config.schema import LedgerConfig
from mavi_sync.errors import LedgerError, MaviSyncError
from mavi_sync.ledger.schema import MIGRATIONS
from mavi_sync.logs import get_logger

PREFIX, SUFFIX = "ledger-", ".sqlite3"
_STAMP = re.compile(r"ledger-\d{8}T\d{6}Z\.sqlite3")
RETRY_S = 3600.0  # a copy that failed is tried again this soon (or at the interval, if sooner)
log = get_logger("mavi_sync.find.backup")


def name_at(when: float) -> str:
    """The copy's file name for the moment `when`: its names sort as their times do."""
    return f"{PREFIX}{datetime.fromtimestamp(when, timezone.utc):%Y%m%dT%H%M%SZ}{SUFFIX}"


def made_at(copy: Path) -> float:
    """The moment a copy is of, from its name."""
    stamp = copy.name[len(PREFIX):-len(SUFFIX)]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()


def copies(directory: Path) -> list[Path]:
    """The copies in `directory`, oldest first."""
    try:
        return sorted(p for p in directory.iterdir() if _STAMP.fullmatch(p.name))
    except OSError:  # not there (yet), not a directory, not readable: no copies to be had there
        return []


def copy_database(source: Path, dest: Path) -> None:
    """A consistent copy of the SQLite database `source` at `dest` (replaced), in one step of
    the online backup API; the file at `dest` appears whole or not at all."""
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        try:
            out = sqlite3.connect(tmp)
            try:
                src.backup(out, pages=-1)
                out.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it (the ledger opens it in WAL)
            finally:
                out.close()
        finally:
            src.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise LedgerError(f"cannot copy the ledger {source} to {dest}: {exc}") from None


def backup_now(ledger: Path, directory: Path, keep: int, now: float) -> Path:
    """Copy `ledger` into `directory` (named for `now`), then keep only the newest `keep` copies."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"cannot create the backup directory {directory}: {exc.strerror}") from None
    dest = directory / name_at(now)
    copy_database(ledger, dest)
    for old in copies(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return dest


def verified(copy: Path) -> int:
    """The schema version of a copy that SQLite finds sound and this mavi-sync can open;
    MaviSyncError naming what is wrong otherwise (nothing is restored from it)."""
    try:
        db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            sound = db.execute("PRAGMA integrity_check").fetchone()[0]
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            db.execute("SELECT COUNT(*) FROM files").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise MaviSyncError(f"{copy} is not a readable ledger: {exc}",
                            hint="Choose another copy (mavi-sync recover --backup FILE).") from None
    if sound != "ok":
        raise MaviSyncError(f"{copy} is damaged: {sound}", hint="Choose another copy (mavi-sync recover --backup FILE).")
    if version > len(MIGRATIONS):
        raise MaviSyncError(f"{copy} was made by a newer mavi-sync (schema {version})", hint="Upgrade mavi-sync.")
    return version


class Backups:
    """The daemon's copies: one when the newest is older than the interval, checked once a minute."""

    def __init__(self, config: LedgerConfig, ledger: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.config, self.ledger, self.clock = config, ledger, clock
        self.stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._next_try = 0.0

    def due(self, now: float) -> bool:
        """Whether a copy is due: none yet, or the newest older than the interval."""
        assert self.config.backup_dir is not None
        if now < self._next_try:
            return False
        newest = copies(self.config.backup_dir)
        return not newest or now - made_at(newest[-1]) >= self.config.backup_interval_s

    def tick(self) -> Optional[Path]:
        """Make a copy if one is due; the copy, or None. Failures are logged, and tried again later."""
        now = self.clock()
        if self.config.backup_dir is None or not self.due(now):
            return None
        started = time.monotonic()
        try:
            dest = backup_now(self.ledger, self.config.backup_dir, self.config.backup_keep, now)
        except MaviSyncError as exc:
            self._next_try = now + min(RETRY_S, self.config.backup_interval_s)
            log.error("ledger_backup_failed", error=str(exc), hint=exc.hint)
            return None
        log.info("ledger_backup_done", path=str(dest), size=dest.stat().st_size,
                 duration_ms=int((time.monotonic() - started) * 1000))
        return dest

    def start(self) -> None:
        if self.config.backup_dir is None:
            return
        self._thread = threading.Thread(target=self._run, name="ledger-backup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.tick()
            if self.stop.wait(60.0):
                return

    def close(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(30.0)
