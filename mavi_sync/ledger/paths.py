"""Which paths held which content: the `paths` table, the directory marks of the restart's
walk, the paths skipped with their reason, and what becomes of a row when its last path
goes (`places`: where its bytes went)."""

from __future__ import annotations

import os
import sqlite3
from typing import Iterable, Optional

from mavi_sync.ledger.connection import LedgerBase
from mavi_sync.ledger.records import OWNER, PathRecord, Place, dir_key, path_key

SKIP_REFRESH_S = 86400.0


class Paths(LedgerBase):
    """The ledger's paths: mixed into `Ledger` (store.py)."""

    def lookup_path(self, path: str | bytes | os.PathLike[str]) -> Optional[PathRecord]:
        rows = self._read("SELECT path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at "
                          "FROM paths WHERE path = ?", (path_key(path),))
        return PathRecord(*rows[0]) if rows else None

    def known_in(self, directory: str | bytes | os.PathLike[str]) -> dict[str, tuple[int, int, int, int]]:
        """{file name: (size, mtime_ns, inode, device)} of the paths recorded directly in
        `directory`: one indexed range read per directory instead of one query per file
        (the restart's walk compares 100,000 files against this)."""
        prefix = path_key(directory).rstrip(b"/") + b"/"
        start = len(prefix) + 1
        # b"0" sorts right after b"/": the range is everything under the directory; instr()
        # leaves deeper paths out inside SQLite, so a folder's top level with files beside
        # year directories does not pull the whole ledger into Python.
        rows = self._read("SELECT substr(path, ?), size, mtime_ns, inode, device FROM paths "
                          "WHERE path >= ? AND path < ? AND instr(substr(path, ?), X'2F') = 0",
                          (start, prefix, prefix[:-1] + b"0", start))
        return {name.decode("utf-8", "surrogateescape"): (size, mtime_ns, inode, device)
                for name, size, mtime_ns, inode, device in rows}

    def mark_of(self, directory: str | bytes | os.PathLike[str]) -> Optional[int]:
        """The directory's mark from the last walk that found all its files known, if no
        path in it was written since."""
        rows = self._read("SELECT mark FROM dir_marks WHERE directory = ?", (dir_key(directory),))
        return int(rows[0][0]) if rows else None

    def set_mark(self, directory: str | bytes | os.PathLike[str], mark: int, files: int) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO dir_marks (directory, mark, files, marked_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (directory) DO UPDATE SET mark = excluded.mark, files = excluded.files, "
                       "marked_at = excluded.marked_at", (dir_key(directory), mark, files, self._clock()))

    def prune_marks(self, root: str | bytes | os.PathLike[str], keep: Iterable[str | bytes]) -> int:
        """Drop the marks of directories under `root` (itself included) not in `keep`: those
        a full walk no longer found. NVRs delete old day folders; without this their marks
        would stay for years. Returns how many."""
        kept = {dir_key(d) for d in keep}
        top = dir_key(root)
        prefix = top.rstrip(b"/") + b"/"
        # Keys under prefix sort between it and the same with "/" (0x2f) raised to "0" (0x30).
        rows = self._read("SELECT directory FROM dir_marks WHERE directory = ? OR (directory >= ? AND directory < ?)",
                          (top, prefix, prefix[:-1] + b"0"))
        gone = [bytes(r[0]) for r in rows if bytes(r[0]) not in kept]
        if gone:
            with self._tx() as db:
                db.executemany("DELETE FROM dir_marks WHERE directory = ?", [(g,) for g in gone])
        return len(gone)

    def record_path(self, path: str | bytes | os.PathLike[str], sha256: str, st: os.stat_result,
                    folder: str, file_id: Optional[int] = None) -> None:
        """Remember that `path` held content `sha256` with this stat (insert or replace)."""
        with self._tx() as db:
            self._record_path(db, path, sha256, st, folder, file_id)

    def _record_path(self, db: sqlite3.Connection, path: str | bytes | os.PathLike[str], sha256: str,
                     st: os.stat_result, folder: str, file_id: Optional[int]) -> None:
        raw = path_key(path)
        before = db.execute("SELECT file_id FROM paths WHERE path = ?", (raw,)).fetchone()
        self._record_path_row(db, path, sha256, st, folder, file_id)
        if before is not None and before[0] is not None and before[0] != file_id:
            db.execute("DELETE FROM duties WHERE path = ?", (raw,))  # owed for content it no longer holds
            self._orphaned(db, before[0], raw, "replaced")  # rewritten, grown

    def _orphaned(self, db: sqlite3.Connection, file_id: int, path: bytes, how: str,
                  dest: Optional[bytes] = None) -> None:
        """`path` no longer holds row `file_id`'s content (`how`: a key of GONE_HOW). When no
        path holds it any more and it never reached the server, the row is deleted: a prefix
        an NVR went on appending to, a file deleted before its upload. A row that was (or may
        have been) sent stays, the record of that, with where its bytes went (`places`); if it
        was still pending it is not any more, since nothing holds what it would send
        (`vanished`; found again, it is looked up first)."""
        held = db.execute("SELECT 1 FROM paths WHERE file_id = ?", (file_id,)).fetchone() is not None
        idle = file_id not in self._in_flight
        if not held and idle:
            # `lookup_due` keeps a row that may be on the server; once it failed for good, only a
            # video's is worth keeping (it is looked up before it is sent again: no other target
            # can be), so a failed photo of a dropped folder is forgotten like any unsent one.
            unsent = ("remote_id IS NULL AND (lookup_due = 0 OR (target <> 'video' AND state = 'failed')) "
                      "AND state NOT IN ('uploading', 'uploaded', 'confirmed')")
            db.execute(f"DELETE FROM files WHERE part_of = ? AND {unsent}", (file_id,))
            db.execute(f"DELETE FROM files WHERE id = ? AND {unsent} "
                       "AND NOT EXISTS (SELECT 1 FROM files WHERE part_of = ?)", (file_id, file_id))
        if db.execute("SELECT 1 FROM files WHERE id = ?", (file_id,)).fetchone() is None:
            return
        db.execute("INSERT INTO places (file_id, path, how, dest, at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (file_id, path) DO UPDATE SET how = excluded.how, dest = excluded.dest, "
                   "at = excluded.at", (file_id, path, how, dest, self._clock()))
        if not held and idle:
            db.execute("UPDATE files SET state = 'vanished', updated_at = ? WHERE (id = ? OR part_of = ?) "
                       "AND state IN ('discovered', 'ready', 'uploading')", (self._clock(), file_id, file_id))

    def _record_path_row(self, db: sqlite3.Connection, path: str | bytes | os.PathLike[str], sha256: str,
                         st: os.stat_result, folder: str, file_id: Optional[int]) -> None:
        db.execute("DELETE FROM skipped WHERE path = ?", (path_key(path),))  # it holds content now
        db.execute("DELETE FROM dir_marks WHERE directory = ?", (dir_key(os.path.dirname(path_key(path))),))
        db.execute(
            "INSERT INTO paths (path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
            "file_id = excluded.file_id, sha256 = excluded.sha256, folder = excluded.folder, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, "
            "device = excluded.device, seen_at = excluded.seen_at",
            (path_key(path), file_id, sha256, folder, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev,
             self._clock()))

    def skip(self, path: str | bytes | os.PathLike[str], reason: str) -> bool:
        """Record that `path` is not uploaded and why; True when this is news (log it once).
        An unchanged skip is rewritten at most once a day: every rescan meets the same links
        and FIFOs, and a write per path per rescan is disk wear for nothing."""
        raw, now = path_key(path), self._clock()
        row = self._read("SELECT reason, last_seen FROM skipped WHERE path = ?", (raw,))
        if row and row[0][0] == reason and now - float(row[0][1]) < SKIP_REFRESH_S:
            return False
        with self._tx() as db:
            db.execute("INSERT INTO skipped (path, reason, first_seen, last_seen) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, last_seen = excluded.last_seen",
                       (raw, reason, now, now))
        return not row or row[0][0] != reason

    def skipped(self, limit: int = 1000) -> list[tuple[bytes, str, float]]:
        """(path, reason, last_seen) of skipped paths, newest first."""
        rows = self._read("SELECT path, reason, last_seen FROM skipped ORDER BY last_seen DESC LIMIT ?", (limit,))
        return [(bytes(r[0]), str(r[1]), float(r[2])) for r in rows]

    def unskip(self, path: str | bytes | os.PathLike[str]) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM skipped WHERE path = ?", (path_key(path),))

    def skipped_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM skipped", ())[0][0])

    def forget_path(self, path: str | bytes | os.PathLike[str], how: str = "gone") -> None:
        """The path holds nothing any more (`how`, a key of GONE_HOW): drop it, and its
        content's row too when no other path holds that content and it never reached the
        server (else the row keeps where its bytes went: `_orphaned`)."""
        with self._tx() as db:
            self._forget(db, path_key(path), how)

    def _forget(self, db: sqlite3.Connection, path: bytes, how: str, dest: Optional[bytes] = None) -> None:
        row = db.execute("SELECT file_id FROM paths WHERE path = ?", (path,)).fetchone()
        db.execute("DELETE FROM paths WHERE path = ?", (path,))
        db.execute("DELETE FROM duties WHERE path = ?", (path,))
        db.execute("DELETE FROM dir_marks WHERE directory = ?", (dir_key(os.path.dirname(path)),))
        if row is not None and row[0] is not None:
            self._orphaned(db, int(row[0]), path, how, dest)

    def forget_folder(self, root: str) -> int:
        """A folder left the config (a reload): its paths whose content was not sent are
        forgotten (their rows with them, or kept as `_orphaned` says when the server may hold
        them), and nothing more is owed in it. Sent files keep their paths: their bytes are
        still there. Returns how many paths were forgotten."""
        prefix = dir_key(root).rstrip(b"/") + b"/"
        with self._lock, self._tx() as db:
            rows = db.execute("SELECT path, file_id FROM paths WHERE folder = ? AND (file_id IS NULL OR file_id IN "
                              "(SELECT id FROM files WHERE remote_id IS NULL AND state NOT IN ('uploaded', "
                              "'confirmed')))", (root,)).fetchall()
            forgotten = [bytes(r[0]) for r in rows if r[1] is None or int(r[1]) not in self._in_flight]
            for path in forgotten:
                self._forget(db, path, "left")
            db.execute("DELETE FROM duties WHERE path >= ? AND path < ?", (prefix, prefix[:-1] + b"0"))
            db.execute("DELETE FROM skipped WHERE path >= ? AND path < ?", (prefix, prefix[:-1] + b"0"))
            db.execute("DELETE FROM dir_marks WHERE directory = ? OR (directory >= ? AND directory < ?)",
                       (dir_key(root), prefix, prefix[:-1] + b"0"))
        return len(forgotten)

    def paths_of(self, file_id: int) -> list[bytes]:
        """The paths holding this row's content (a companion's: its file's, see `companion`)."""
        return [bytes(r[0]) for r in self._read(f"SELECT path FROM paths WHERE file_id = {OWNER} ORDER BY seen_at",
                                                (file_id, file_id))]

    def path_of(self, file_id: int) -> Optional[bytes]:
        """The most recently seen path that holds this file's content, or None."""
        rows = self._read(f"SELECT path FROM paths WHERE file_id = {OWNER} ORDER BY seen_at DESC LIMIT 1",
                          (file_id, file_id))
        return bytes(rows[0][0]) if rows else None


    def place_of(self, file_id: int) -> Optional[Place]:
        """Where the row's bytes are now: its most recently seen watched path, else where
        they went when the last one stopped holding them; None for a row that never had a path."""
        raw = self.path_of(file_id)
        if raw is not None:
            return Place("watched", raw)
        rows = self._read(f"SELECT how, path, dest FROM places WHERE file_id = {OWNER} ORDER BY at DESC LIMIT 1",
                          (file_id, file_id))
        if not rows:
            return None
        how, path, dest = rows[0][0], bytes(rows[0][1]), rows[0][2]
        return Place(how, bytes(dest), path) if dest is not None else Place(how, path)
