"""The ledger's connection: one SQLite file in WAL mode, migrated on open, and the three
ways to reach it (a write transaction, a read, a read on a connection of its own).

Readers such as `mavi-sync status` never block the daemon (WAL); one connection, guarded by
a lock, is shared by the worker threads. The query families (paths.py, duties.py, …) and
the rows' own moves (store.py) are built on `LedgerBase`; the fleet's PostgreSQL ledger
swaps the connection (fleet/ledger.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TypeVar

from mavi_sync.errors import LedgerError
from mavi_sync.ledger.schema import migrate

OPEN_PATIENCE_S = 30.0
_L = TypeVar("_L", bound="LedgerBase")


class LedgerBase:
    """The ledger file's connection. Thread-safe; close() when done (or use as a context manager)."""

    # What the connection raises, and how a message names the ledger and says what went
    # wrong: the fleet's PostgreSQL ledger (fleet/ledger.py) has its own.
    ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,)
    # What the owner does when a write fails (the daemon's `ledger_unwritable` line).
    UNWRITABLE_HINT = ("Free disk space or make the ledger writable; intake resumes by itself. "
                       "Nothing is lost: files not yet recorded are found again by a walk.")

    @property
    def where(self) -> str:
        return str(self.path)

    def _reason(self, exc: BaseException) -> str:
        return str(exc)

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        # Rows this process is uploading right now. A row that says `uploading` but is not
        # here was cut off (crash, kill) and may be resumed; one that is here is in flight.
        self._in_flight: set[int] = set()
        self._aside: Optional[sqlite3.Connection] = None  # see _read_aside
        self._aside_lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from None
        except OSError as exc:
            raise LedgerError(f"cannot create the ledger's directory {self.path.parent}: {exc.strerror}") from None

    def _open(self, patience_s: float = OPEN_PATIENCE_S) -> sqlite3.Connection:
        """Connect, switch to WAL, migrate. Switching a new file to WAL needs it to itself and
        SQLite answers "database is locked" at once, without waiting, when another process
        (the daemon and `mavi-sync status` starting together) holds it: so retry, bounded."""
        deadline = time.monotonic() + patience_s
        delay = 0.01
        while True:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
                db.execute("PRAGMA foreign_keys=ON")
                self._db = db
                self._migrate()
                return db
            except sqlite3.OperationalError as exc:
                db.close()
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(0.5, delay * 2)
            except BaseException:
                db.close()
                raise

    # -- plumbing ---------------------------------------------------------------------
    def __enter__(self: _L) -> _L:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()
        with self._aside_lock:
            if self._aside is not None:
                self._aside.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. BEGIN IMMEDIATE takes the write lock up front, so a
        read-check-write (a state transition) cannot interleave with another writer."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except self.ERRORS as exc:
                raise LedgerError(f"ledger write failed ({self.where}): {self._reason(exc)}") from None

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._db.execute(sql, args)
                return cursor.fetchall()
            except self.ERRORS as exc:
                raise LedgerError(f"ledger read failed ({self.where}): {self._reason(exc)}") from None

    def _read_aside(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """A read on a connection of its own, for counts over the whole table (start-up,
        heartbeats). On a cold page cache one takes ~90 ms for 100,000 files; on the shared
        connection it held the lock that the start-up walk needs for each directory. WAL
        lets the two run side by side, and SQLite lets go of the GIL while it reads."""
        with self._aside_lock:
            try:
                if self._aside is None:
                    self._aside = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                                  check_same_thread=False)
                    self._aside.execute("PRAGMA query_only=ON")
                return self._aside.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise LedgerError(f"ledger read failed ({self.path}): {exc}") from None

    def _migrate(self) -> None:
        migrate(self._db, self.path)

    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    def integrity_check(self) -> str:
        """'ok' when SQLite finds the file sound."""
        return str(self._read("PRAGMA integrity_check")[0][0])
