"""Read-outs over many rows: the digest and `status`'s figures, and the web page's tables
(web/board.py, on a ledger of its own). Reads only."""

from __future__ import annotations

import os
from typing import Any, Optional

from mavi_sync.ledger.paths import Paths
from mavi_sync.ledger.records import FILE_COLUMNS, FileRecord, to_file
from mavi_sync.ledger.states import State


class ReadOuts(Paths):
    """Counts, the oldest pending file, failures and refusals: mixed into `Ledger` (store.py)."""

    def oldest_pending(self) -> Optional[FileRecord]:
        rows = self._read(f"SELECT {', '.join(FILE_COLUMNS)} FROM files WHERE state IN "
                          "('discovered', 'ready', 'uploading', 'uploaded') ORDER BY created_at LIMIT 1")
        return to_file(rows[0]) if rows else None

    def failed_since(self, since: float, limit: int = 1000) -> list[tuple[float, Optional[bytes], str]]:
        """Rows that reached `failed` after `since`, oldest first: (when, a path, last error)."""
        rows = self._read("SELECT updated_at, (SELECT path FROM paths WHERE file_id = COALESCE(f.part_of, f.id) "
                          "ORDER BY seen_at DESC LIMIT 1), last_error FROM files f WHERE state = 'failed' AND "
                          "updated_at > ? ORDER BY updated_at LIMIT ?", (since, limit))
        return [(float(r[0]), bytes(r[1]) if r[1] is not None else None, r[2] or "") for r in rows]

    def digest(self, since: float) -> dict[str, Any]:
        """What happened since `since`, for the daily digest: uploads and their bytes,
        refusals by reason, failures, and the files still waiting (the oldest one named)."""
        uploaded = self._read("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files WHERE uploaded_at >= ?", (since,))[0]
        refused = self._read("SELECT last_error, COUNT(*) FROM files WHERE state = 'rejected' AND updated_at >= ? "
                             "GROUP BY last_error ORDER BY COUNT(*) DESC", (since,))
        failed = self.failed_since(since)
        pending = self._read("SELECT COUNT(*) FROM files WHERE state IN ('discovered', 'ready', 'uploading', "
                             "'uploaded')")[0][0]
        oldest = self.oldest_pending()
        oldest_path = self.path_of(oldest.id) if oldest is not None else None
        return {"since": since, "uploaded": int(uploaded[0]), "bytes": int(uploaded[1]),
                "refused": sum(int(r[1]) for r in refused), "refused_reasons": [(r[0] or "?", int(r[1])) for r in refused[:5]],
                "failed": len(failed), "failed_files": [(os.fsdecode(p) if p else "?", e) for _, p, e in failed[:5]],
                "pending": int(pending),
                "oldest_pending": None if oldest is None else {
                    "since": oldest.created_at, "path": os.fsdecode(oldest_path) if oldest_path else "?"}}

    def counts(self) -> dict[tuple[str, str], int]:
        """{(state, target): number of files}."""
        return {(r[0], r[1]): int(r[2]) for r in
                self._read_aside("SELECT state, target, COUNT(*) FROM files GROUP BY state, target")}


    # -- the web page's read-outs (web/board.py, on a ledger of its own) ----------------------
    def by_folder(self, now: float) -> list[tuple[str, str, int, int, int]]:
        """(folder, state, paths, their bytes, how many wait for a later attempt) for every path."""
        rows = self._read("SELECT p.folder, f.state, COUNT(*), COALESCE(SUM(p.size), 0), SUM(CASE WHEN f.state = "
                          "'ready' AND f.next_attempt_at > ? THEN 1 ELSE 0 END) FROM paths p JOIN files f ON "
                          "f.id = p.file_id GROUP BY p.folder, f.state", (now,))
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4] or 0)) for r in rows]

    def with_paths(self, *, state: Optional[State] = None, waiting_after: Optional[float] = None,
                   limit: int = 50) -> list[tuple[FileRecord, Optional[bytes], Optional[str]]]:
        """The rows changed last, with the path (and folder) that last held each: all of them, those
        in `state`, or those ready but waiting for an attempt later than `waiting_after`."""
        where, args = ("WHERE state = ?", (state.value,)) if state is not None else ("", ())
        if waiting_after is not None:
            where, args = "WHERE state = 'ready' AND next_attempt_at > ?", (waiting_after,)
        # The newest ids first, then their rows: sorting ids alone is 3 times faster than whole rows.
        rows = self._read(f"SELECT {', '.join('f.' + c for c in FILE_COLUMNS)}, p.path, p.folder FROM files f "
                          f"LEFT JOIN paths p ON p.path = (SELECT path FROM paths WHERE file_id = COALESCE(f.part_of, "
                          f"f.id) ORDER BY seen_at DESC LIMIT 1) WHERE f.id IN (SELECT id FROM files {where} ORDER BY "
                          "updated_at DESC LIMIT ?) ORDER BY f.updated_at DESC", (*args, limit))
        n = len(FILE_COLUMNS)
        return [(to_file(r[:n]), bytes(r[n]) if r[n] is not None else None, r[n + 1]) for r in rows]

    def refusals(self, limit: int = 50) -> list[tuple[str, str, int]]:
        """(folder, reason, paths) of refused files, the commonest first."""
        rows = self._read("SELECT p.folder, f.last_error, COUNT(*) FROM files f JOIN paths p ON p.file_id = f.id "
                          "WHERE f.state = 'rejected' GROUP BY p.folder, f.last_error ORDER BY COUNT(*) DESC "
                          "LIMIT ?", (limit,))
        return [(str(r[0]), r[1] or "refused", int(r[2])) for r in rows]
