"""What the ledger's rows are in Python, and how rows and values map to and from SQL.

A row of `files` is a FileRecord, of `paths` a PathRecord, of `duties` a Duty; a Place says
where a row's bytes are now. Paths are keys of raw bytes; JSON columns are encoded here.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from mavi_sync.ledger.states import State

# The row whose paths a row's are: its own, or its file's row for a companion (migration 9).
OWNER = "COALESCE((SELECT part_of FROM files WHERE id = ?), ?)"

FILE_COLUMNS = ("id", "sha256", "target", "namespace", "size", "state", "media_type", "metadata",
                 "capture_time", "remote_id", "remote_status", "attempts", "next_attempt_at",
                 "last_error", "created_at", "updated_at", "result", "uploaded_at", "polls", "next_poll_at",
                 "lookup_due", "sent_sha256")
DUTY_COLUMNS = ("path", "file_id", "action", "dest", "due_at", "attempts", "next_at", "last_error")
UPDATABLE = frozenset(FILE_COLUMNS) - {"id", "sha256", "target", "namespace", "created_at", "state"}


@dataclass(frozen=True)
class FileRecord:
    id: int
    sha256: str
    target: str
    namespace: str
    size: int
    state: State
    media_type: Optional[str]
    metadata: Optional[dict[str, Any]]
    capture_time: Optional[str]
    remote_id: Optional[str]
    remote_status: Optional[str]
    attempts: int
    next_attempt_at: Optional[float]
    last_error: Optional[str]
    created_at: float
    updated_at: float
    result: Optional[dict[str, Any]] = None  # the server's answer worth keeping (security captions)
    uploaded_at: Optional[float] = None
    polls: int = 0
    next_poll_at: Optional[float] = None
    lookup_due: bool = False  # the server may hold it: look before sending again (migration 7)
    sent_sha256: Optional[str] = None  # the bytes sent, when made from the file (migration 8)

    @property
    def maybe_sent(self) -> bool:
        """An earlier request for this content may have reached the server."""
        return self.lookup_due or self.state is State.UPLOADING


@dataclass(frozen=True)
class PathRecord:
    path: bytes
    file_id: Optional[int]
    sha256: str
    folder: str
    size: int
    mtime_ns: int
    inode: int
    device: int
    seen_at: float

    def matches(self, st: os.stat_result) -> bool:
        """True when `st` shows the same, unchanged file (no need to hash it again)."""
        return (self.size, self.mtime_ns, self.inode, self.device) == \
            (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


@dataclass(frozen=True)
class Duty:
    """A path's after-upload action, owed since `due_at` (migration 10)."""

    path: bytes
    file_id: int
    action: str  # "archive" or "delete"
    dest: Optional[bytes]  # the archive copy's name, chosen at the first attempt
    due_at: float
    attempts: int
    next_at: float
    last_error: Optional[str]


# Why no watched path holds a row's bytes any more: the words every read-out uses.
GONE_HOW = {"archived": "archived", "deleted": "deleted after upload", "gone": "no longer there",
            "left": "its folder left the config", "replaced": "the path holds newer content now"}


@dataclass(frozen=True)
class Place:
    """Where a row's bytes are now: a watched path, else where they went and why (`how`, a
    key of GONE_HOW): an archive copy (`was`: the watched path it left), or the path they
    were last at."""

    how: str
    path: bytes
    was: Optional[bytes] = None

    def describe(self) -> str:
        return os.fsdecode(self.path) + ("" if self.how == "watched" else f" ({GONE_HOW[self.how]})")

    def as_json(self) -> dict[str, Optional[str]]:
        return {"path": os.fsdecode(self.path), "place": self.how,
                "was": os.fsdecode(self.was) if self.was is not None else None}



def path_key(path: str | bytes | os.PathLike[str]) -> bytes:
    # Paths are stored as raw bytes: camera file names are not always valid UTF-8.
    return os.fsencode(path)



def dir_key(directory: str | bytes | os.PathLike[str]) -> bytes:
    """A directory as `dir_marks` keys it: bytes, no trailing slash (except the root)."""
    return path_key(directory).rstrip(b"/") or b"/"


def filters(state: Optional[State], target: Optional[str]) -> tuple[str, tuple[Any, ...]]:
    clauses, args = [], []
    if state is not None:
        clauses.append("state = ?")
        args.append(state.value)
    if target is not None:
        clauses.append("target = ?")
        args.append(target)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


JSON_COLUMNS = ("metadata", "result")


def encode(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v, sort_keys=True, ensure_ascii=False) if k in JSON_COLUMNS and v is not None else v)
            for k, v in fields.items()}


def to_duty(row: sqlite3.Row | tuple[Any, ...]) -> Duty:
    path, file_id, action, dest, due_at, attempts, next_at, error = row
    return Duty(bytes(path), int(file_id), str(action), bytes(dest) if dest is not None else None, float(due_at),
                int(attempts), float(next_at), error)


def to_file(row: sqlite3.Row | tuple[Any, ...]) -> FileRecord:
    data = dict(zip(FILE_COLUMNS, row))
    data["state"] = State(data["state"])
    data["lookup_due"] = bool(data["lookup_due"])
    for column in JSON_COLUMNS:
        data[column] = json.loads(data[column]) if data[column] else None
    return FileRecord(**data)
