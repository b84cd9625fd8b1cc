"""The SQLite ledger: every file seen, its content hash, remote id and state. All SQL lives here.

One file in WAL mode (readers such as `mavi-sync status` never block the daemon),
migrations by `PRAGMA user_version` applied on open, one connection guarded by a
lock so worker threads can share it. Rows are keyed by content (sha256) per
target and namespace; the `paths` table remembers which paths held which content,
with size/mtime/inode so an unchanged file is never hashed twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

import platformdirs

from mavi_sync.errors import ClaimLost, LedgerError
from mavi_sync.ledger.states import State, check_transition

LEDGER_NAME = "ledger.sqlite3"

# Each entry moves the schema one version up; never edit a shipped entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        target TEXT NOT NULL,
        namespace TEXT NOT NULL,
        size INTEGER NOT NULL,
        state TEXT NOT NULL,
        media_type TEXT,
        metadata TEXT,
        capture_time TEXT,
        remote_id TEXT,
        remote_status TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (sha256, target, namespace)
    );
    CREATE INDEX files_state ON files (state, next_attempt_at);
    CREATE TABLE paths (
        path BLOB PRIMARY KEY,
        file_id INTEGER REFERENCES files (id),
        sha256 TEXT NOT NULL,
        folder TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        inode INTEGER NOT NULL,
        device INTEGER NOT NULL,
        seen_at REAL NOT NULL
    );
    CREATE INDEX paths_file ON paths (file_id);
    """,
    # 2: what the server answered (security captions, token counts) and status following.
    """
    ALTER TABLE files ADD COLUMN result TEXT;
    ALTER TABLE files ADD COLUMN uploaded_at REAL;
    ALTER TABLE files ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN next_poll_at REAL;
    """,
    # 3: what the daemon reports about itself (paused reason, outage, heartbeat) for `status`.
    """
    CREATE TABLE daemon (key TEXT PRIMARY KEY, value TEXT, updated_at REAL NOT NULL);
    CREATE INDEX files_poll ON files (state, next_poll_at);
    """,
    # 4: paths that hold nothing to upload (FIFOs, sockets, symlinks not followed, unreadable
    # files), with the reason: recorded so that `status` and `ledger --skipped` can say why.
    """
    CREATE TABLE skipped (path BLOB PRIMARY KEY, reason TEXT NOT NULL, first_seen REAL NOT NULL,
                          last_seen REAL NOT NULL);
    """,
    # 5: counts() by state and target from the index alone: every heartbeat asks, and with
    # 100,000 rows a table scan held the ledger long enough to slow the startup walk.
    """
    CREATE INDEX files_state_target ON files (state, target);
    """,
    # 6: one mark per directory whose files were all found unchanged (scanner.mark): a
    # restart compares it instead of every path row. Any write to `paths` in a directory
    # deletes the directory's mark, in the same transaction.
    """
    CREATE TABLE dir_marks (directory BLOB PRIMARY KEY, mark INTEGER NOT NULL, files INTEGER NOT NULL,
                            marked_at REAL NOT NULL);
    """,
    # 7: "the server may hold this content: look it up before sending it again". Set when a
    # request's body starts leaving, cleared only once the server holds the content (sent or
    # found): a lookup that fails, an outage or an account error can no longer lose it.
    # Rows left `uploading` by a version that claimed before sending may have been sent.
    """
    ALTER TABLE files ADD COLUMN lookup_due INTEGER NOT NULL DEFAULT 0;
    UPDATE files SET lookup_due = 1 WHERE state = 'uploading';
    """,
    # 8: the hash of the bytes actually sent when they were made from the file (a HEIC photo
    # sent as a JPEG); the row's sha256 stays the original's: it is the file's identity.
    """
    ALTER TABLE files ADD COLUMN sent_sha256 TEXT;
    """,
    # 9: a second upload made from one file (an Android motion photo's clip beside its still,
    # live_photos = "both"): its row names the file's row, whose paths are its paths.
    """
    ALTER TABLE files ADD COLUMN part_of INTEGER REFERENCES files (id);
    CREATE INDEX files_part_of ON files (part_of) WHERE part_of IS NOT NULL;
    """,
    # 10: after-upload actions are duties (after/): a watched path whose content the server
    # holds, in a folder that archives or deletes, stays owed until it is done, retried with
    # back-off and re-applied at start. `places`: where a row's bytes went when a watched path
    # stopped holding them (archived, deleted after upload, gone, their folder left the
    # config, the path rewritten), so that every row can say where its bytes are now.
    """
    CREATE TABLE duties (path BLOB PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files (id),
                         action TEXT NOT NULL, dest BLOB, due_at REAL NOT NULL,
                         attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, last_error TEXT);
    CREATE INDEX duties_next ON duties (next_at);
    CREATE TABLE places (file_id INTEGER NOT NULL REFERENCES files (id), path BLOB NOT NULL, how TEXT NOT NULL,
                         dest BLOB, at REAL NOT NULL, PRIMARY KEY (file_id, path));
    """,
    # 11: memories.ai folders made from [[folders]] server_folder (api/folders.py): each name's
    # id, kept once for the whole account (in a fleet, the first node's id wins). And search
    # hits (find/) name a remote id: the row that holds it, without a scan of every row.
    """
    CREATE TABLE server_folders (name TEXT PRIMARY KEY, folder_id INTEGER NOT NULL, created_at REAL NOT NULL);
    CREATE INDEX files_remote ON files (remote_id) WHERE remote_id IS NOT NULL;
    """,
)

# The row whose paths a row's are: its own, or its file's row for a companion (migration 9).
_OWNER = "COALESCE((SELECT part_of FROM files WHERE id = ?), ?)"

_FILE_COLUMNS = ("id", "sha256", "target", "namespace", "size", "state", "media_type", "metadata",
                 "capture_time", "remote_id", "remote_status", "attempts", "next_attempt_at",
                 "last_error", "created_at", "updated_at", "result", "uploaded_at", "polls", "next_poll_at",
                 "lookup_due", "sent_sha256")
_DUTY_COLUMNS = ("path", "file_id", "action", "dest", "due_at", "attempts", "next_at", "last_error")
_UPDATABLE = frozenset(_FILE_COLUMNS) - {"id", "sha256", "target", "namespace", "created_at", "state"}


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


def default_ledger_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """$STATE_DIRECTORY/ledger.sqlite3 under systemd, else the platform's state directory."""
    env = os.environ if environ is None else environ
    state_dir = env.get("STATE_DIRECTORY", "").split(":")[0]
    if state_dir:
        return Path(state_dir) / LEDGER_NAME
    return platformdirs.user_state_path("mavi-sync") / LEDGER_NAME


# The units' ConfigurationDirectory= and the state directories they give each config
# (systemd/mavi-sync.service: config.toml; mavi-sync@NAME.service: NAME.toml).
SERVICE_CONFIG_DIR = Path("/etc/mavi-sync")
SERVICE_STATE_ROOT = Path("/var/lib")


def service_state_dir(config_source: Optional[Path]) -> Optional[Path]:
    """The state directory of the unit that runs `config_source`, when it is one of the
    units' configs: /var/lib/mavi-sync for config.toml, /var/lib/mavi-sync-NAME for NAME.toml."""
    if config_source is None:
        return None
    source = Path(os.path.abspath(config_source))
    if source.parent != SERVICE_CONFIG_DIR or source.suffix != ".toml":
        return None
    return SERVICE_STATE_ROOT / ("mavi-sync" if source.name == "config.toml" else f"mavi-sync-{source.stem}")


def ledger_path_for(configured: Optional[Path], config_source: Optional[Path],
                    environ: Optional[Mapping[str, str]] = None) -> Path:
    """The ledger a config uses, for the daemon and every command alike: `[ledger] path`;
    else the service's state directory (the daemon under systemd; a shell given the
    service's config, so `status --config /etc/mavi-sync/config.toml` reads what the service
    writes); else the platform's state directory."""
    env = os.environ if environ is None else environ
    if configured is not None:
        return configured
    if env.get("STATE_DIRECTORY"):
        return default_ledger_path(env)
    service = service_state_dir(config_source)
    return service / LEDGER_NAME if service is not None else default_ledger_path(env)


def _fspath(path: str | bytes | os.PathLike[str]) -> bytes:
    # Paths are stored as raw bytes: camera file names are not always valid UTF-8.
    return os.fsencode(path)


OPEN_PATIENCE_S = 30.0
SKIP_REFRESH_S = 86400.0


class Ledger:
    """The ledger file. Thread-safe; close() when done (or use as a context manager)."""

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
    def __enter__(self) -> "Ledger":
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
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise LedgerError(
                f"the ledger {self.path} has schema version {version}, newer than this mavi-sync knows "
                f"({len(MIGRATIONS)})", hint="Upgrade mavi-sync, or point [ledger] path at another file.")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.execute("BEGIN IMMEDIATE")
            # Another process (the daemon and `mavi-sync status` starting together) may have
            # migrated while we waited for the write lock: read the version again under it.
            if self._db.execute("PRAGMA user_version").fetchone()[0] >= number:
                self._db.execute("COMMIT")
                continue
            try:
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    def integrity_check(self) -> str:
        """'ok' when SQLite finds the file sound."""
        return str(self._read("PRAGMA integrity_check")[0][0])

    # -- paths ------------------------------------------------------------------------
    def lookup_path(self, path: str | bytes | os.PathLike[str]) -> Optional[PathRecord]:
        rows = self._read("SELECT path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at "
                          "FROM paths WHERE path = ?", (_fspath(path),))
        return PathRecord(*rows[0]) if rows else None

    def known_in(self, directory: str | bytes | os.PathLike[str]) -> dict[str, tuple[int, int, int, int]]:
        """{file name: (size, mtime_ns, inode, device)} of the paths recorded directly in
        `directory`: one indexed range read per directory instead of one query per file
        (the restart's walk compares 100,000 files against this)."""
        prefix = _fspath(directory).rstrip(b"/") + b"/"
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
        rows = self._read("SELECT mark FROM dir_marks WHERE directory = ?", (_dir_key(directory),))
        return int(rows[0][0]) if rows else None

    def set_mark(self, directory: str | bytes | os.PathLike[str], mark: int, files: int) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO dir_marks (directory, mark, files, marked_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (directory) DO UPDATE SET mark = excluded.mark, files = excluded.files, "
                       "marked_at = excluded.marked_at", (_dir_key(directory), mark, files, self._clock()))

    def prune_marks(self, root: str | bytes | os.PathLike[str], keep: Iterable[str | bytes]) -> int:
        """Drop the marks of directories under `root` (itself included) not in `keep`: those
        a full walk no longer found. NVRs delete old day folders; without this their marks
        would stay for years. Returns how many."""
        kept = {_dir_key(d) for d in keep}
        top = _dir_key(root)
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
        raw = _fspath(path)
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
        db.execute("DELETE FROM skipped WHERE path = ?", (_fspath(path),))  # it holds content now
        db.execute("DELETE FROM dir_marks WHERE directory = ?", (_dir_key(os.path.dirname(_fspath(path))),))
        db.execute(
            "INSERT INTO paths (path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
            "file_id = excluded.file_id, sha256 = excluded.sha256, folder = excluded.folder, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, "
            "device = excluded.device, seen_at = excluded.seen_at",
            (_fspath(path), file_id, sha256, folder, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev,
             self._clock()))

    def skip(self, path: str | bytes | os.PathLike[str], reason: str) -> bool:
        """Record that `path` is not uploaded and why; True when this is news (log it once).
        An unchanged skip is rewritten at most once a day: every rescan meets the same links
        and FIFOs, and a write per path per rescan is disk wear for nothing."""
        raw, now = _fspath(path), self._clock()
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
            db.execute("DELETE FROM skipped WHERE path = ?", (_fspath(path),))

    def skipped_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM skipped", ())[0][0])

    def forget_path(self, path: str | bytes | os.PathLike[str], how: str = "gone") -> None:
        """The path holds nothing any more (`how`, a key of GONE_HOW): drop it, and its
        content's row too when no other path holds that content and it never reached the
        server (else the row keeps where its bytes went: `_orphaned`)."""
        with self._tx() as db:
            self._forget(db, _fspath(path), how)

    def _forget(self, db: sqlite3.Connection, path: bytes, how: str, dest: Optional[bytes] = None) -> None:
        row = db.execute("SELECT file_id FROM paths WHERE path = ?", (path,)).fetchone()
        db.execute("DELETE FROM paths WHERE path = ?", (path,))
        db.execute("DELETE FROM duties WHERE path = ?", (path,))
        db.execute("DELETE FROM dir_marks WHERE directory = ?", (_dir_key(os.path.dirname(path)),))
        if row is not None and row[0] is not None:
            self._orphaned(db, int(row[0]), path, how, dest)

    def forget_folder(self, root: str) -> int:
        """A folder left the config (a reload): its paths whose content was not sent are
        forgotten (their rows with them, or kept as `_orphaned` says when the server may hold
        them), and nothing more is owed in it. Sent files keep their paths: their bytes are
        still there. Returns how many paths were forgotten."""
        prefix = _dir_key(root).rstrip(b"/") + b"/"
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
                       (_dir_key(root), prefix, prefix[:-1] + b"0"))
        return len(forgotten)

    def paths_of(self, file_id: int) -> list[bytes]:
        """The paths holding this row's content (a companion's: its file's, see `companion`)."""
        return [bytes(r[0]) for r in self._read(f"SELECT path FROM paths WHERE file_id = {_OWNER} ORDER BY seen_at",
                                                (file_id, file_id))]

    # -- files ------------------------------------------------------------------------
    def get(self, sha256: str, target: str, namespace: str) -> Optional[FileRecord]:
        rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files "
                          "WHERE sha256 = ? AND target = ? AND namespace = ?", (sha256, target, namespace))
        return _file(rows[0]) if rows else None

    def get_by_id(self, file_id: int) -> Optional[FileRecord]:
        rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files WHERE id = ?", (file_id,))
        return _file(rows[0]) if rows else None

    def add(self, sha256: str, target: str, namespace: str, size: int, **fields: Any) -> FileRecord:
        """Insert a `discovered` row for this content, or return the existing one unchanged."""
        now = self._clock()
        values = _encode(fields)
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
        values = _encode(fields)
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
        values = _encode(fields)
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
                          f"(id = {_OWNER} OR part_of = {_OWNER})", (file_id, file_id, file_id, file_id))
        return int(rows[0][0]) == 0

    def parts(self, file_id: int) -> list[FileRecord]:
        """The rows of the uploads made from the file of row `file_id` besides its own."""
        rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files WHERE part_of = ?", (file_id,))
        return [_file(r) for r in rows]

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
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = _encode(changes)
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
        where, args = _filters(state, target)
        rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files {where} ORDER BY updated_at DESC "
                          "LIMIT ?", (*args, limit))
        return [_file(r) for r in rows]

    def due(self, state: State, now: float, *, column: str = "next_attempt_at", limit: int = 500) -> list[FileRecord]:
        """Files in `state` whose `column` time (next_attempt_at or next_poll_at) has come, oldest first."""
        if column not in ("next_attempt_at", "next_poll_at"):
            raise ValueError(column)
        rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files WHERE state = ? AND "
                          f"({column} IS NULL OR {column} <= ?) ORDER BY {column}, id LIMIT ?",
                          (state.value, now, limit))
        return [_file(r) for r in rows]

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

    def path_of(self, file_id: int) -> Optional[bytes]:
        """The most recently seen path that holds this file's content, or None."""
        rows = self._read(f"SELECT path FROM paths WHERE file_id = {_OWNER} ORDER BY seen_at DESC LIMIT 1",
                          (file_id, file_id))
        return bytes(rows[0][0]) if rows else None

    def set_daemon(self, **values: Optional[str]) -> None:
        """Record what the daemon wants `status` to show (None removes a key)."""
        with self._tx() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM daemon WHERE key = ?", (key,))
                else:
                    db.execute("INSERT INTO daemon (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                               "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                               (key, value, self._clock()))

    def daemon(self) -> dict[str, tuple[str, float]]:
        """{key: (value, updated_at)} as the daemon last wrote them."""
        return {r[0]: (r[1], float(r[2])) for r in self._read("SELECT key, value, updated_at FROM daemon")}

    def oldest_pending(self) -> Optional[FileRecord]:
        rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files WHERE state IN "
                          "('discovered', 'ready', 'uploading', 'uploaded') ORDER BY created_at LIMIT 1")
        return _file(rows[0]) if rows else None

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

    # -- where the bytes are; after-upload duties (after/) --------------------------------
    def place_of(self, file_id: int) -> Optional[Place]:
        """Where the row's bytes are now: its most recently seen watched path, else where
        they went when the last one stopped holding them; None for a row that never had a path."""
        raw = self.path_of(file_id)
        if raw is not None:
            return Place("watched", raw)
        rows = self._read(f"SELECT how, path, dest FROM places WHERE file_id = {_OWNER} ORDER BY at DESC LIMIT 1",
                          (file_id, file_id))
        if not rows:
            return None
        how, path, dest = rows[0][0], bytes(rows[0][1]), rows[0][2]
        return Place(how, bytes(dest), path) if dest is not None else Place(how, path)

    def owe(self, path: str | bytes | os.PathLike[str], file_id: int, action: str) -> bool:
        """Record that `path`, holding row `file_id`'s content, is to be archived or deleted
        (`action`); False when it was owed already."""
        now = self._clock()
        with self._tx() as db:
            return db.execute("INSERT INTO duties (path, file_id, action, due_at, next_at) VALUES (?, ?, ?, ?, ?) "
                              "ON CONFLICT (path) DO NOTHING", (_fspath(path), file_id, action, now, now)).rowcount > 0

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
        rows = self._read(f"SELECT {', '.join(_DUTY_COLUMNS)} FROM duties WHERE {where} ORDER BY next_at, path "
                          "LIMIT ?", (*args, limit))
        return [_duty(r) for r in rows]

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
            rows = self._read(f"SELECT {', '.join(_DUTY_COLUMNS)} FROM duties WHERE action = ? ORDER BY due_at, path "
                              "LIMIT 1", (action,))
            if rows:
                out[str(action)] = (int(count), _duty(rows[0]))
        return out

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
        rows = self._read(f"SELECT {', '.join('f.' + c for c in _FILE_COLUMNS)}, p.path, p.folder FROM files f "
                          f"LEFT JOIN paths p ON p.path = (SELECT path FROM paths WHERE file_id = COALESCE(f.part_of, "
                          f"f.id) ORDER BY seen_at DESC LIMIT 1) WHERE f.id IN (SELECT id FROM files {where} ORDER BY "
                          "updated_at DESC LIMIT ?) ORDER BY f.updated_at DESC", (*args, limit))
        n = len(_FILE_COLUMNS)
        return [(_file(r[:n]), bytes(r[n]) if r[n] is not None else None, r[n + 1]) for r in rows]

    def refusals(self, limit: int = 50) -> list[tuple[str, str, int]]:
        """(folder, reason, paths) of refused files, the commonest first."""
        rows = self._read("SELECT p.folder, f.last_error, COUNT(*) FROM files f JOIN paths p ON p.file_id = f.id "
                          "WHERE f.state = 'rejected' GROUP BY p.folder, f.last_error ORDER BY COUNT(*) DESC "
                          "LIMIT ?", (limit,))
        return [(str(r[0]), r[1] or "refused", int(r[2])) for r in rows]

    # -- server folders; what find/ compares with the server (search, check, recover) ------
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
            rows = self._read(f"SELECT {', '.join(_FILE_COLUMNS)} FROM files WHERE target = ? AND remote_id IN "
                              f"({', '.join('?' * len(chunk))})", (target, *chunk))
            out.update((str(r.remote_id), r) for r in map(_file, rows))
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
                   r.get("capture_time"), _encode({"metadata": r.get("metadata")})["metadata"], now, now)
                  for r in rows]
        with self._tx() as db:
            before = int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
            db.executemany("INSERT INTO files (sha256, target, namespace, size, state, remote_id, remote_status, "
                           "uploaded_at, next_poll_at, capture_time, metadata, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (sha256, target, namespace) DO NOTHING", values)
            return int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0]) - before


def _dir_key(directory: str | bytes | os.PathLike[str]) -> bytes:
    """A directory as `dir_marks` keys it: bytes, no trailing slash (except the root)."""
    return _fspath(directory).rstrip(b"/") or b"/"


def _filters(state: Optional[State], target: Optional[str]) -> tuple[str, tuple[Any, ...]]:
    clauses, args = [], []
    if state is not None:
        clauses.append("state = ?")
        args.append(state.value)
    if target is not None:
        clauses.append("target = ?")
        args.append(target)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


_JSON_COLUMNS = ("metadata", "result")


def _encode(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v, sort_keys=True, ensure_ascii=False) if k in _JSON_COLUMNS and v is not None else v)
            for k, v in fields.items()}


def _duty(row: sqlite3.Row | tuple[Any, ...]) -> Duty:
    path, file_id, action, dest, due_at, attempts, next_at, error = row
    return Duty(bytes(path), int(file_id), str(action), bytes(dest) if dest is not None else None, float(due_at),
                int(attempts), float(next_at), error)


def _file(row: sqlite3.Row | tuple[Any, ...]) -> FileRecord:
    data = dict(zip(_FILE_COLUMNS, row))
    data["state"] = State(data["state"])
    data["lookup_due"] = bool(data["lookup_due"])
    for column in _JSON_COLUMNS:
        data[column] = json.loads(data[column]) if data[column] else None
    return FileRecord(**data)
