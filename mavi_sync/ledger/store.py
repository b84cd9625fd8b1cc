"""The SQLite ledger: every file seen, its content hash, remote id and state.

`Ledger` is the rows' own moves (register, claim, start, transition, release) over the
connection (connection.py), with the query families mixed in, one concept each: paths and
directory marks (paths.py), after-upload duties (duties.py, over paths), the daemon's
report (daemon_table.py), read-outs (readouts.py, over paths), the server's side (remote.py). Rows are keyed by
content (sha256) per target and namespace; the `paths` table remembers which paths held
which content, with size/mtime/inode so an unchanged file is never hashed twice. The SQL
lives in these modules; the schema in schema.py, the rows' Python shape in records.py.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional

from mavi_sync.errors import ClaimLost, LedgerError
from mavi_sync.ledger.daemon_table import DaemonTable
from mavi_sync.ledger.duties import Duties
from mavi_sync.ledger.readouts import ReadOuts
from mavi_sync.ledger.records import FILE_COLUMNS, OWNER, UPDATABLE, FileRecord, encode, filters, to_file
from mavi_sync.ledger.remote import Remote
from mavi_sync.ledger.states import State, check_transition


class Ledger(Duties, ReadOuts, DaemonTable, Remote):
    """The ledger file. Thread-safe; close() when done (or use as a context manager)."""

    def get(self, sha256: str, target: str, namespace: str) -> Optional[FileRecord]:
        rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files "
                          "WHERE sha256 = ? AND target = ? AND namespace = ?", (sha256, target, namespace))
        return to_file(rows[0]) if rows else None

    def get_by_id(self, file_id: int) -> Optional[FileRecord]:
        rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files WHERE id = ?", (file_id,))
        return to_file(rows[0]) if rows else None

    def add(self, sha256: str, target: str, namespace: str, size: int, **fields: Any) -> FileRecord:
        """Insert a `discovered` row for this content, or return the existing one unchanged."""
        now = self._clock()
        values = encode(fields)
        with self._tx() as db:
            db.execute(
                "INSERT INTO files (sha256, target, namespace, size, state, media_type, metadata, capture_time, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256, target, namespace) DO NOTHING",
                (sha256, target, namespace, size, State.DISCOVERED.value, values.get("media_type"),
                 values.get("metadata"), values.get("capture_time"), now, now))
        record = self.get(sha256, target, namespace)
        assert record is not None
        return record

    def register(self, path: str | bytes | os.PathLike[str], st: os.stat_result, folder: str, sha256: str,
                 target: str, namespace: str, *, refused: Optional[str] = None, **fields: Any) -> FileRecord:
        """Record that `path` holds this content, and the content's row if it is new: `ready`,
        or `rejected` with the reason `refused`. One transaction: a crash leaves both or neither.
        An existing row is returned unchanged (its content was seen before, under any path)."""
        now = self._clock()
        values = encode(fields)
        state, error = (State.REJECTED, refused) if refused is not None else (State.READY, None)
        with self._tx() as db:
            db.execute(
                "INSERT INTO files (sha256, target, namespace, size, state, media_type, metadata, capture_time, "
                "last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256, target, namespace) DO NOTHING",
                (sha256, target, namespace, st.st_size, state.value, values.get("media_type"),
                 values.get("metadata"), values.get("capture_time"), error, now, now))
            file_id = db.execute("SELECT id FROM files WHERE sha256 = ? AND target = ? AND namespace = ?",
                                 (sha256, target, namespace)).fetchone()[0]
            self._record_path(db, path, sha256, st, folder, file_id)
        record = self.get_by_id(file_id)
        assert record is not None
        return record

    def companion(self, primary_id: int, sha256: str, target: str, namespace: str, size: int,
                  **fields: Any) -> FileRecord:
        """The row of a second upload made from the file of row `primary_id` (a motion photo's
        clip): `ready` when new, else unchanged. It has no paths of its own: the file's are its."""
        now = self._clock()
        values = encode(fields)
        with self._tx() as db:
            db.execute(
                "INSERT INTO files (sha256, target, namespace, size, state, media_type, metadata, capture_time, "
                "part_of, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256, target, namespace) DO NOTHING",
                (sha256, target, namespace, size, State.READY.value, values.get("media_type"),
                 values.get("metadata"), values.get("capture_time"), primary_id, now, now))
        record = self.get(sha256, target, namespace)
        assert record is not None
        return record

    def all_parts_confirmed(self, file_id: int) -> bool:
        """Whether the server holds every upload made from this row's file (the file's own
        row and its companions'): only then may the file be archived or deleted."""
        rows = self._read(f"SELECT COUNT(*) FROM files WHERE state != 'confirmed' AND "
                          f"(id = {OWNER} OR part_of = {OWNER})", (file_id, file_id, file_id, file_id))
        return int(rows[0][0]) == 0

    def parts(self, file_id: int) -> list[FileRecord]:
        """The rows of the uploads made from the file of row `file_id` besides its own."""
        rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files WHERE part_of = ?", (file_id,))
        return [to_file(r) for r in rows]

    def claim(self, file_id: int, expect: tuple[State, int]) -> FileRecord:
        """Take the row for one upload attempt: attempts + 1, only if it still is `expect`
        = (state, attempts) as the caller read it and no worker of this process holds it;
        else ClaimLost. A rejected, failed or vanished row asked for again becomes `ready`.
        The row says `uploading` only once the request starts (started()): a claim waiting
        for its rate-limit slot when the daemon stops has sent nothing and claims nothing."""
        with self._lock:
            if file_id in self._in_flight:
                raise ClaimLost(f"ledger row {file_id} is being uploaded by another worker")
            state = expect[0] if expect[0] in (State.READY, State.UPLOADING) else State.READY
            record = self.transition(file_id, state, expect=expect, attempts=expect[1] + 1, last_error=None)
            self._in_flight.add(file_id)
            return record

    def release(self, file_id: int) -> None:
        """This process's attempt on `file_id` is over, however it ended (its outcome written,
        or the ledger failed before it could be): the row may be claimed again."""
        with self._lock:
            self._in_flight.discard(file_id)

    def started(self, file_id: int) -> None:
        """The attempt's request is leaving: from now on the server may hold the content."""
        with self._lock:
            self.transition(file_id, State.UPLOADING, lookup_due=1)
            self._in_flight.add(file_id)

    def transition(self, file_id: int, state: State, *, expect: Optional[tuple[State, int]] = None,
                   **changes: Any) -> FileRecord:
        """Move a file to `state` (checked against the state machine) and set `changes`.

        `expect` = (state, attempts) as the caller read them: the move happens only if the
        row still says so, atomically, else ClaimLost (claim() is built on it: two workers,
        or the daemon and `mavi-sync upload`, cannot both win). Any move releases the row
        from this process's claims, except claim() and started() themselves.
        """
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = encode(changes)
        with self._lock:  # also covers _in_flight, below
            with self._tx() as db:
                row = db.execute("SELECT state, attempts FROM files WHERE id = ?", (file_id,)).fetchone()
                if row is None:
                    raise LedgerError(f"no ledger row {file_id}")
                if expect is not None and (State(row[0]), row[1]) != expect:
                    raise ClaimLost(f"ledger row {file_id} is {row[0]} (attempt {row[1]}), not {expect[0].value} "
                                    f"(attempt {expect[1]}) any more")
                check_transition(State(row[0]), state)
                sets = ", ".join(f"{k} = ?" for k in values)
                db.execute(f"UPDATE files SET state = ?, updated_at = ?{', ' + sets if sets else ''} WHERE id = ?",
                           (state.value, self._clock(), *values.values(), file_id))
            self._in_flight.discard(file_id)  # claim() and started() add it back after COMMIT
        record = self.get_by_id(file_id)
        assert record is not None
        return record

    def files(self, *, state: Optional[State] = None, target: Optional[str] = None,
              limit: int = 1000) -> list[FileRecord]:
        where, args = filters(state, target)
        rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files {where} ORDER BY updated_at DESC "
                          "LIMIT ?", (*args, limit))
        return [to_file(r) for r in rows]

    def due(self, state: State, now: float, *, column: str = "next_attempt_at", limit: int = 500) -> list[FileRecord]:
        """Files in `state` whose `column` time (next_attempt_at or next_poll_at) has come, oldest first."""
        if column not in ("next_attempt_at", "next_poll_at"):
            raise ValueError(column)
        rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files WHERE state = ? AND "
                          f"({column} IS NULL OR {column} <= ?) ORDER BY {column}, id LIMIT ?",
                          (state.value, now, limit))
        return [to_file(r) for r in rows]

    def set_result(self, target: str, remote_id: str, result: dict[str, Any], remote_status: str) -> Optional[int]:
        """Record what the server said later about an upload (an async security caption, by
        its task id) without moving its state; the row's id, or None when no row has that id."""
        with self._tx() as db:
            row = db.execute("SELECT id FROM files WHERE target = ? AND remote_id = ?", (target, remote_id)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE files SET result = ?, remote_status = ?, updated_at = ? WHERE id = ?",
                       (json.dumps(result, ensure_ascii=False), remote_status, self._clock(), row[0]))
            return int(row[0])
