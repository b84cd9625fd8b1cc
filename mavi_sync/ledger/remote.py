"""What the ledger knows of the server's side: the memories.ai folders made from
[[folders]] server_folder, and what find/ compares with the server (search, check, recover)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from mavi_sync.ledger.connection import LedgerBase
from mavi_sync.ledger.records import FILE_COLUMNS, FileRecord, encode, to_file
from mavi_sync.ledger.states import State


class Remote(LedgerBase):
    """Server folders and rows by remote id: mixed into `Ledger` (store.py)."""

    def server_folder(self, name: str) -> Optional[int]:
        """The id of the memories.ai folder called `name`, once one was made or found."""
        rows = self._read("SELECT folder_id FROM server_folders WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else None

    def keep_server_folder(self, name: str, folder_id: int) -> int:
        """Record `folder_id` as the folder `name` unless one is recorded already: the id that
        holds, the first writer's (two nodes that each made the folder both use that one)."""
        with self._tx() as db:
            db.execute("INSERT INTO server_folders (name, folder_id, created_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (name) DO NOTHING", (name, folder_id, self._clock()))
            return int(db.execute("SELECT folder_id FROM server_folders WHERE name = ?", (name,)).fetchone()[0])

    def forget_server_folder(self, name: str, folder_id: int) -> None:
        """The folder `folder_id` is gone from the account: `name` is made again when next needed."""
        with self._tx() as db:
            db.execute("DELETE FROM server_folders WHERE name = ? AND folder_id = ?", (name, folder_id))

    def server_folders(self) -> dict[str, int]:
        """{name: folder id} of every folder recorded."""
        return {str(r[0]): int(r[1]) for r in self._read("SELECT name, folder_id FROM server_folders ORDER BY name")}

    def by_remote_ids(self, target: str, remote_ids: Iterable[str]) -> dict[str, FileRecord]:
        """{remote id: the row that holds it} for those of `remote_ids` a `target` row holds."""
        wanted, out = list(dict.fromkeys(remote_ids)), {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files WHERE target = ? AND remote_id IN "
                              f"({', '.join('?' * len(chunk))})", (target, *chunk))
            out.update((str(r.remote_id), r) for r in map(to_file, rows))
        return out

    def remote_rows(self, target: str) -> list[tuple[int, str, str, State, Optional[str], int, float]]:
        """(id, sha256, namespace, state, remote_id, attempts, updated_at) of every `target` row,
        in one read: what `mavi-sync check` holds against the server's listing."""
        rows = self._read("SELECT id, sha256, namespace, state, remote_id, attempts, updated_at FROM files "
                          "WHERE target = ? ORDER BY id", (target,))
        return [(int(r[0]), str(r[1]), str(r[2]), State(r[3]), r[4], int(r[5]), float(r[6])) for r in rows]

    def adopt_remote(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Rows for content the server holds (`mavi-sync recover`): each mapping has sha256,
        target, namespace, size, state, remote_id, remote_status, uploaded_at, capture_time and
        metadata. Content the ledger has a row for is left as it is. One write; returns how
        many were added."""
        now = self._clock()
        values = [(r["sha256"], r["target"], r["namespace"], int(r["size"]), State(r["state"]).value,
                   r["remote_id"], r["remote_status"], r["uploaded_at"], now if r["state"] == State.UPLOADED else None,
                   r.get("capture_time"), encode({"metadata": r.get("metadata")})["metadata"], now, now)
                  for r in rows]
        with self._tx() as db:
            before = int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
            db.executemany("INSERT INTO files (sha256, target, namespace, size, state, remote_id, remote_status, "
                           "uploaded_at, next_poll_at, capture_time, metadata, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (sha256, target, namespace) DO NOTHING", values)
            return int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0]) - before
