"""After-upload duties (after/): a watched path owed an archive or a delete, until it is
done; retried with back-off, shown by `status` and the metrics."""

from __future__ import annotations

import os
from typing import Optional

from mavi_sync.ledger.paths import Paths
from mavi_sync.ledger.records import DUTY_COLUMNS, Duty, path_key, to_duty


class Duties(Paths):
    """The ledger's duties: mixed into `Ledger` (store.py). Done, a duty's path is dropped by
    `Paths._forget`, which keeps where the bytes went."""

    def owe(self, path: str | bytes | os.PathLike[str], file_id: int, action: str) -> bool:
        """Record that `path`, holding row `file_id`'s content, is to be archived or deleted
        (`action`); False when it was owed already."""
        now = self._clock()
        with self._tx() as db:
            return db.execute("INSERT INTO duties (path, file_id, action, due_at, next_at) VALUES (?, ?, ?, ?, ?) "
                              "ON CONFLICT (path) DO NOTHING", (path_key(path), file_id, action, now, now)).rowcount > 0

    def unowed(self, root: str) -> list[tuple[bytes, int]]:
        """(path, row) of the folder's paths whose content the server holds and that nothing
        is owed for: confirmed before duties were written (a crash in between, a ledger from
        before migration 10), or while the folder kept its files. On its own connection."""
        rows = self._read_aside("SELECT path, file_id FROM paths WHERE folder = ? AND file_id IN (SELECT id FROM "
                                "files WHERE state = 'confirmed') AND path NOT IN (SELECT path FROM duties)", (root,))
        return [(bytes(r[0]), int(r[1])) for r in rows]

    def duties(self, *, due_by: Optional[float] = None, file_id: Optional[int] = None,
               limit: int = 100) -> list[Duty]:
        """Owed actions whose time has come by `due_by`, or those of row `file_id`; oldest first."""
        where, args = ("next_at <= ?", (due_by,)) if due_by is not None else ("file_id = ?", (file_id,))
        rows = self._read(f"SELECT {', '.join(DUTY_COLUMNS)} FROM duties WHERE {where} ORDER BY next_at, path "
                          "LIMIT ?", (*args, limit))
        return [to_duty(r) for r in rows]

    def duty_tried(self, path: bytes, *, dest: Optional[bytes] = None, error: Optional[str] = None,
                   next_at: Optional[float] = None) -> None:
        """Note a duty's chosen archive name (before the move), or a failed attempt: its
        error and when to try again."""
        with self._tx() as db:
            if error is None:
                db.execute("UPDATE duties SET dest = ? WHERE path = ?", (dest, path))
            else:
                db.execute("UPDATE duties SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE path = ?",
                           (error, next_at, path))

    def duty_void(self, path: bytes) -> None:
        """Nothing is owed for `path` any more (it changed, its folder keeps its files now)."""
        with self._tx() as db:
            db.execute("DELETE FROM duties WHERE path = ?", (path,))

    def duty_done(self, path: bytes, how: str, dest: Optional[bytes] = None) -> None:
        """`path` was archived (to `dest`) or deleted: one write drops the duty and the path and
        records where the bytes went."""
        with self._tx() as db:
            self._forget(db, path, how, dest)

    def waiting(self, now: float) -> dict[str, tuple[int, Duty]]:
        """{action: (how many are owed, the oldest)} for `status` and the metrics."""
        out = {}
        for action, count in self._read("SELECT action, COUNT(*) FROM duties WHERE due_at <= ? GROUP BY action",
                                        (now,)):
            rows = self._read(f"SELECT {', '.join(DUTY_COLUMNS)} FROM duties WHERE action = ? ORDER BY due_at, path "
                              "LIMIT 1", (action,))
            if rows:
                out[str(action)] = (int(count), to_duty(rows[0]))
        return out
