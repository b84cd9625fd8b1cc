"""`mavi-sync migrate-ledger`: a box joining the fleet copies its SQLite ledger into the
fleet's, as its node. Idempotent: a content row the fleet already has stays as the fleet
has it (the fleet is the truth; the box's row only maps to it), paths and skipped paths are
written again as they are, and so are the after-upload duties and the places of rows whose
bytes left their path; directory marks are left out (the first walk makes them)."""

from __future__ import annotations

from dataclasses import dataclass

from mavi_sync.fleet.ledger import PostgresLedger
from mavi_sync.ledger.records import FILE_COLUMNS
from mavi_sync.ledger.store import Ledger

_COPIED = [c for c in FILE_COLUMNS if c != "id"] + ["part_of"]


@dataclass(frozen=True)
class Copied:
    rows: int
    new_rows: int
    paths: int
    skipped: int


def migrate(local: Ledger, fleet: PostgresLedger) -> Copied:
    rows = local._read(f"SELECT id, {', '.join(_COPIED)} FROM files ORDER BY part_of IS NOT NULL, id")
    ids: dict[int, int] = {}
    new = 0
    with fleet._tx() as db:
        for row in rows:
            values = dict(zip(["id", *_COPIED], row))
            local_id = values.pop("id")
            if values["part_of"] is not None:
                values["part_of"] = ids.get(int(values["part_of"]))
            if values["state"] == "uploading":  # cut off on the box: this node resumes it (looked up first)
                values["claimed_by"] = fleet.node
            cur = db.execute(f"INSERT INTO files ({', '.join(values)}) VALUES ({', '.join('?' * len(values))}) "
                             "ON CONFLICT (sha256, target, namespace) DO NOTHING", tuple(values.values()))
            new += cur.rowcount
            found = db.execute("SELECT id FROM files WHERE sha256 = ? AND target = ? AND namespace = ?",
                               (values["sha256"], values["target"], values["namespace"])).fetchone()
            ids[int(local_id)] = int(found[0])  # type: ignore[index]
        paths = local._read("SELECT path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at FROM paths")
        for p in paths:
            db.execute("INSERT INTO paths (path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET file_id = excluded.file_id, "
                       "sha256 = excluded.sha256, folder = excluded.folder, size = excluded.size, "
                       "mtime_ns = excluded.mtime_ns, inode = excluded.inode, device = excluded.device, "
                       "seen_at = excluded.seen_at",
                       (bytes(p[0]), ids.get(int(p[1])) if p[1] is not None else None, *p[2:]))
        # What is owed after upload, and where the bytes of rows without a path went (migration 10).
        for d in local._read("SELECT path, file_id, action, dest, due_at, attempts, next_at, last_error FROM duties"):
            db.execute("INSERT INTO duties (path, file_id, action, dest, due_at, attempts, next_at, last_error) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING",
                       (bytes(d[0]), ids[int(d[1])], d[2], bytes(d[3]) if d[3] is not None else None, *d[4:]))
        for p in local._read("SELECT file_id, path, how, dest, at FROM places"):
            db.execute("INSERT INTO places (file_id, path, how, dest, at) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (file_id, path) DO NOTHING",
                       (ids[int(p[0])], bytes(p[1]), p[2], bytes(p[3]) if p[3] is not None else None, p[4]))
        skipped = local._read("SELECT path, reason, first_seen, last_seen FROM skipped")
        for k in skipped:
            db.execute("INSERT INTO skipped (path, reason, first_seen, last_seen) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (path) DO NOTHING", (bytes(k[0]), *k[1:]))
    return Copied(len(rows), new, len(paths), len(skipped))
