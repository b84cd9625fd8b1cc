"""`mavi-sync recover`: a ledger rebuilt for a box whose ledger was lost, so that the old
folders on a new box send nothing the account already holds.

From the server: each video carries a `sha256:` tag (video_sha_tag), so the listing of each
namespace the config sends videos to gives back the rows the daemon matches files against
(content, not paths: the first walk hashes every file and finds its row). Parsed videos
become `confirmed`, those still processing `uploaded` (followed); FAILED ones are left out,
so their files are sent again, as they would have been. What no endpoint lists (images,
security clips, v2 assets) cannot come back from the server: a copy of the ledger
(find/backup.py) is the remedy, and `--backup` puts one back, then adds the server's videos
uploaded since it was made.

The new ledger is built under a temporary name and moved into place at the end; an
existing ledger is never replaced without `--force`, and then it is kept beside, copied.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from mavi_sync.api.client import Client
from mavi_sync.config.schema import Config
from mavi_sync.errors import MaviSyncError
from mavi_sync.find.backup import copies, copy_database, verified
from mavi_sync.find.listing import Listing, list_all, sha_of
from mavi_sync.ledger.location import ledger_path_for
from mavi_sync.ledger.store import Ledger
from mavi_sync.readout.report import RUNNING_S
from mavi_sync.ledger.states import State

NOT_RECOVERABLE = "images, security clips and v2 assets (no endpoint lists them)"


@dataclass
class Recovered:
    path: Path
    added: int = 0
    confirmed: int = 0
    processing: int = 0
    failed_there: int = 0
    untagged: int = 0
    repeats: int = 0
    requests: int = 0
    from_backup: Optional[Path] = None
    kept_old: Optional[Path] = None
    namespaces: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.from_backup is not None:
            out.append(f"restored the copy {self.from_backup}")
        if self.namespaces:
            out.append(f"recovered {self.added} video row(s) from the server ({', '.join(self.namespaces)}): "
                       f"{self.confirmed} confirmed, {self.processing} still processing"
                       + (f" ({self.confirmed + self.processing - self.added} in the copy already)"
                          if self.from_backup else ""))
            if self.failed_there:
                out.append(f"{self.failed_there} FAILED there: not recorded, so their files are sent again")
            if self.untagged:
                out.append(f"{self.untagged} listed without a sha256: tag (not sent by mavi-sync, or with "
                           "video_sha_tag = false): they cannot be matched to files")
        out.append(f"the ledger is {self.path}" + (f"; the one before is kept at {self.kept_old}" if self.kept_old
                                                   else ""))
        if self.from_backup is None:
            out.append(f"cannot be recovered from the server: {NOT_RECOVERABLE}. Remedy: a copy of the ledger "
                       "([ledger] backup_dir, made by the daemon); `mavi-sync recover --backup` puts the newest "
                       "back and adds the server's videos since")
        return out

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self).items()} | {
            "not_recoverable_from_server": NOT_RECOVERABLE if self.from_backup is None else None}


def rows_of(namespace: str, videos: Iterable[tuple[str, dict[str, Any]]]) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Listed (number, video) → ledger rows (pure), and counts of what became of them."""
    rows: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for number, video in videos:
        sha, status = sha_of(video), str(video.get("status") or "").upper()
        if sha is None:
            counts["untagged"] += 1
            continue
        if status in ("FAILED", "FAIL", "PARSE_ERROR"):
            counts["failed"] += 1
            continue
        state = State.CONFIRMED if status == "PARSE" else State.UPLOADED
        counts["confirmed" if state is State.CONFIRMED else "processing"] += 1
        created, taken = video.get("create_time"), video.get("datetime_taken")
        rows.append({"sha256": sha, "target": "video", "namespace": namespace, "state": state,
                     "size": video["size"] if isinstance(video.get("size"), int) else 0, "remote_id": number,
                     "remote_status": status or None, "uploaded_at": created / 1000 if _ms(created) else None,
                     "capture_time": _wall(taken) if _ms(taken) else None,
                     "metadata": {"camera_model": video.get("camera_model"), "server_name": video.get("video_name"),
                                  "recovered": "server"}})
    return rows, counts


def _ms(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _wall(ms: float) -> str:
    """The capture time as it was sent (yyyy-MM-dd HH:mm:ss, which the server keeps as UTC)."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None).isoformat()


def namespaces_of(config: Config) -> list[str]:
    """The namespaces (unique_id) the config's folders send videos to."""
    return sorted({f.unique_id for f in config.folders if f.target in ("video", "auto")})


def recover(config: Config, client: Optional[Client], *, force: bool = False, backup: Optional[Path] = None,
            clock: Callable[[], float] = time.time) -> Recovered:
    """Build the config's ledger from `backup` (a copy) and/or the server (`client`; None:
    the copy alone). Raises MaviSyncError before anything is written when the ledger exists
    (without `force`), the daemon runs on it, or the copy is unusable."""
    if config.fleet.database:
        raise MaviSyncError("in a fleet the ledger is the fleet database's: nothing to recover on this box",
                            hint="A new node sees the fleet's rows as soon as it joins ([fleet] database).")
    path = ledger_path_for(config.ledger.path, config.source)
    _may_replace(path, force, clock())
    spaces = namespaces_of(config) if client is not None else []
    if client is not None and not spaces:
        raise MaviSyncError("no [[folders]] entry sends videos (target video or auto): nothing to recover "
                            "from the server", hint="Recover from a copy instead: mavi-sync recover --backup")
    if backup is not None:
        verified(backup)
    tmp = path.with_name(path.name + ".recovering")
    _remove(tmp)
    out = Recovered(path, from_backup=backup, namespaces=spaces)
    try:
        if backup is not None:
            copy_database(backup, tmp)
        with Ledger(tmp, clock=clock) as ledger:
            ledger.set_daemon(pid=None, heartbeat=None)  # a copy's daemon was another process
            def take(listing: Listing, new: list[tuple[str, dict[str, Any]]]) -> None:
                # Each page written as it comes: while the next page's rate-limit slot is waited for.
                rows, counts = rows_of(listing.namespace, new)
                out.added += ledger.adopt_remote(rows)
                out.confirmed += counts["confirmed"]
                out.processing += counts["processing"]
                out.failed_there += counts["failed"]
                out.untagged += counts["untagged"]

            for ns in spaces:
                listing = list_all(client, ns, on_page=take)  # type: ignore[arg-type]
                out.repeats += listing.repeats
                out.requests += listing.requests
        out.kept_old = _into_place(tmp, path, clock())
    finally:
        _remove(tmp)
    return out


def newest_copy(config: Config) -> Path:
    """The newest copy in [ledger] backup_dir; MaviSyncError when there is none."""
    where = config.ledger.backup_dir
    found = copies(where) if where is not None else []
    if not found:
        raise MaviSyncError(f"no copy of the ledger in {where}" if where else "no [ledger] backup_dir is set",
                            hint="Name a copy: mavi-sync recover --backup FILE")
    return found[-1]


def _may_replace(path: Path, force: bool, now: float) -> None:
    if not path.exists():
        return
    with Ledger(path) as old:
        rows = sum(old.counts().values())
        beat = old.daemon().get("heartbeat")
    if beat is not None and now - float(beat[0]) < RUNNING_S:
        raise MaviSyncError(f"the daemon is running on {path}", hint="Stop it first (systemctl stop mavi-sync).")
    if not force:
        raise MaviSyncError(f"the ledger {path} already exists ({rows} row(s)); recover builds a new one",
                            hint="To replace it: mavi-sync recover --force (the one there is kept beside it).")


def _into_place(tmp: Path, path: Path, now: float) -> Optional[Path]:
    """Move the built ledger to `path`; an old one there is copied beside first. Returns that copy."""
    kept = None
    if path.exists():
        kept = path.with_name(f"{path.name}.before-recover-{datetime.fromtimestamp(now, timezone.utc):%Y%m%dT%H%M%SZ}")
        copy_database(path, kept)
        _remove(path)
    os.replace(tmp, path)
    return kept


def _remove(db: Path) -> None:
    """A database file and what SQLite keeps beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
