"""`mavi-sync search "QUERY"`: the account's search, each hit shown as the file on this box.

A hit (a remote video, a segment of it, a score) is looked up in the ledger by its remote
id (one indexed read for all hits) and placed by `places.where_is`. Filters the server has
no word for (the capture time as this box knows it, a local folder) are applied here: the
server is then asked for as many hits as it gives, and the first `limit` that pass are shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Optional

from mavi_sync.api.client import Client
from mavi_sync.api.search import MAX_TOP_K, TYPES, Hit
from mavi_sync.config.schema import Config
from mavi_sync.errors import AccountError, AmbiguousRefusal, MaviSyncError, PermanentError
from mavi_sync.find.places import Where, where_is
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.store import Ledger

EXAMPLE = 'mavi-sync search "delivery van at the gate"'


@dataclass(frozen=True)
class Query:
    text: str
    kind: str = "clip"  # clip | audio | caption
    limit: int = 20
    since: Optional[datetime] = None  # naive local times, as the ledger keeps capture times
    until: Optional[datetime] = None
    folder: Optional[Path] = None  # only files under this local directory
    server_folder: Optional[str] = None  # only videos in this memories.ai folder (by name)

    def problem(self) -> Optional[str]:
        """Why this query is not worth sending, or None."""
        if not self.text.strip():
            return "the query is empty"
        if self.kind not in TYPES:
            return f"--type {self.kind!r}: one of {', '.join(TYPES)}"
        if not 1 <= self.limit <= MAX_TOP_K[self.kind]:
            return f"--limit {self.limit}: {self.kind} search gives 1 to {MAX_TOP_K[self.kind]} hits"
        return None

    @property
    def filtered_here(self) -> bool:
        return bool(self.since or self.until or self.folder)


@dataclass(frozen=True)
class Found:
    """A hit and the file it is on this box."""

    hit: Hit
    record: Optional[FileRecord]
    where: Where
    camera: Optional[str] = None  # the camera as sent: the file's own model, else its folder's

    @property
    def taken(self) -> Optional[datetime]:
        text = self.record.capture_time if self.record else None
        return datetime.fromisoformat(text).replace(tzinfo=None) if text else None

    def player(self) -> Optional[str]:
        return self.where.player(self.hit.start_s)

    def lines(self, number: int) -> list[str]:
        """The hit as text: where, segment, score, camera and time; the player command under it."""
        h = self.hit
        parts = [f"{number:>3}. {h.score:.2f}  {self.where.describe()}", f"{clock(h.start_s)}–{clock(h.end_s)}"]
        if self.camera:
            parts.append(f"camera {self.camera}")
        if self.taken:
            parts.append(f"taken {self.taken:%Y-%m-%d %H:%M:%S}")
        parts.append(h.video_no)
        out = ["  ".join(parts)]
        if h.text:
            out.append(f"     “{h.text[:120]}”")
        if self.player():
            out.append(f"     {self.player()}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {"video_no": self.hit.video_no, "score": self.hit.score, "start_s": self.hit.start_s,
                "end_s": self.hit.end_s, "text": self.hit.text or None, **self.where.as_json(),
                "camera_model": self.camera, "capture_time": self.taken.isoformat() if self.taken else None,
                "uploaded_from_here": self.record is not None, "player": self.player()}


def clock(seconds: float) -> str:
    """13 → 00:13, 3725 → 1:02:05."""
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def search(client: Client, ledger: Ledger, q: Query, config: Optional[Config] = None) -> Iterator[Found]:
    """The hits of `q`, best first, as files on this box (`config`: whose folders name a
    camera for files that do not). Raises MaviSyncError for a query not worth sending or one
    the server refuses; AccountError for the account's problems."""
    problem = q.problem()
    if problem:
        raise MaviSyncError(problem, hint=f"Search for words, e.g. {EXAMPLE}")
    folder_id = _folder_id(client, ledger, q.server_folder) if q.server_folder else None
    top_k = MAX_TOP_K[q.kind] if q.filtered_here else q.limit
    try:
        hits = client.search(q.text.strip(), q.kind, top_k, folder_id)
    except AccountError:
        raise
    except (PermanentError, AmbiguousRefusal) as exc:  # (AmbiguousRefusal: 0001, retried before it gets here)
        raise MaviSyncError(f"the server refused the search: {exc.server_message or exc}".rstrip(),
                            hint=f"Try other words, or another --type; e.g. {EXAMPLE}") from None
    records = ledger.by_remote_ids("video", [h.video_no for h in hits])
    shown = 0
    for hit in hits:
        record = records.get(hit.video_no)
        where = where_is(ledger, record, hit.name)
        found = Found(hit, record, where, _camera(record, where, config))
        if not _passes(found, q):
            continue
        yield found
        shown += 1
        if shown >= q.limit:
            return


def _camera(record: Optional[FileRecord], where: Where, config: Optional[Config]) -> Optional[str]:
    own = ((record.metadata or {}) if record else {}).get("camera_model")
    folder = config.folder_for(Path(where.path)) if config is not None and where.path else None
    return own or (folder.camera_model if folder is not None else None) or None


def _passes(found: Found, q: Query) -> bool:
    if (q.since or q.until) and (found.taken is None or (q.since and found.taken < q.since)
                                 or (q.until and found.taken > q.until)):
        return False
    if q.folder is not None:
        path = found.where.path
        return path is not None and _within(path, q.folder)
    return True


def _within(path: str, root: Path) -> bool:
    root_text = os.path.abspath(root)
    return os.path.abspath(path).startswith(root_text.rstrip("/") + "/")


def _folder_id(client: Client, ledger: Ledger, name: str) -> int:
    known = ledger.server_folder(name)
    if known is not None:
        return known
    listed = client.folders.listed()
    if name not in listed:
        raise MaviSyncError(f"no folder named {name!r} on the account",
                            hint="`mavi-sync folders` lists the folders the config makes and those on the account.")
    return listed[name]
