"""The ledger's SQLite schema: the migrations, and the step that applies them on open.

The schema's version is `PRAGMA user_version`; each migration moves it one up. The fleet's
PostgreSQL ledger (fleet/ledger.py) counts its versions by the same tuple.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mavi_sync.errors import LedgerError

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


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the ledger file open on `db` up to the last migration; LedgerError when it is
    newer than this mavi-sync knows (it is left untouched)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise LedgerError(
            f"the ledger {path} has schema version {version}, newer than this mavi-sync knows "
            f"({len(MIGRATIONS)})", hint="Upgrade mavi-sync, or point [ledger] path at another file.")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        # Another process (the daemon and `mavi-sync status` starting together) may have
        # migrated while we waited for the write lock: read the version again under it.
        if db.execute("PRAGMA user_version").fetchone()[0] >= number:
            db.execute("COMMIT")
            continue
        try:
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        except sqlite3.Error:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
