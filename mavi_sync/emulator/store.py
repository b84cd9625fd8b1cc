"""What the emulator holds: every accepted upload with its fields, size and sha256,
and the remote life cycle each one goes through. Kept in `records.jsonl` in the data
dir (plus the bytes under `blobs/`), so an emulator restarted on the same dir still
knows every video it was sent (as the real service would).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional


@dataclass(frozen=True)
class Timing:
    visible_delay_s: float = 0.0  # get_metadata answers data:null this long after upload
    parse_delay_s: float = 1.0  # v1 video UNPARSE → PARSE
    asset_waiting_s: float = 0.3  # v2 WAITING → UPLOADING
    asset_uploading_s: float = 0.5  # v2 UPLOADING → SUCCESS
    signed_url_ttl_s: float = 3600.0
    security_sync_s: float = 0.1  # the sync understanding endpoint's "thinking" time
    callback_delay_s: float = 0.2  # async security result → callback


@dataclass
class Record:
    id: str
    kind: str  # video | image | security | asset
    namespace: str
    filename: str
    content_type: str
    size: int
    sha256: str
    fields: dict[str, Any]
    tags: list[str]
    created_at: float
    via: str = "direct"  # asset: "signed"
    outcome: str = "SUCCESS"  # the final state processing will reach: PARSE/SUCCESS, FAILED, or PENDING (never)
    cause: str = ""
    blob: Optional[str] = None
    uploaded_at: Optional[float] = None  # signed assets: when the bytes arrived
    expires_at: Optional[float] = None  # signed assets: the URL's expiry
    token: Optional[str] = None  # signed assets: the URL's secret part
    answered: bool = True  # False when the upload was stored but never answered (a "hang")

    def status(self, now: float, t: Timing) -> Optional[str]:
        """The remote status at `now`; None while not visible."""
        if self.kind == "video":
            age = now - self.created_at
            if age < t.visible_delay_s:
                return None
            if age < t.parse_delay_s or self.outcome == "PENDING":
                return "UNPARSE"
            return "PARSE" if self.outcome == "SUCCESS" else "FAILED"
        if self.kind == "asset":
            if self.uploaded_at is None:
                return "WAITING"
            age = now - self.uploaded_at
            if age < t.asset_waiting_s:
                return "WAITING"
            if age < t.asset_waiting_s + t.asset_uploading_s:
                return "UPLOADING"
            return self.outcome
        return "DONE"


class Store:
    """Records by id, persisted as JSON lines (the last line for an id wins)."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.dir = Path(data_dir)
        self.blobs = self.dir / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._log = self.dir / "records.jsonl"
        self._clock = clock
        self._lock = threading.Lock()
        self.records: dict[str, Record] = {}
        self.version = 0  # moves on with every change: what caches of the records key on
        self._load()
        self._ids = itertools.count(int(clock() * 1000) * 1000)

    def _load(self) -> None:
        if not self._log.exists():
            return
        for line in self._log.read_text(encoding="utf-8").splitlines():
            try:
                record = Record(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a line cut short by a kill: the record was never answered
            self.records[record.id] = record

    def new_id(self, kind: str) -> str:
        number = next(self._ids)
        return {"video": f"VI{number}", "asset": f"re_{number}", "security": f"task-{number}"}.get(kind, str(number))

    def save(self, record: Record) -> None:
        self.save_many([record])

    def save_many(self, records: list[Record]) -> None:
        with self._lock:
            with self._log.open("a", encoding="utf-8") as log:
                for record in records:
                    self.records[record.id] = record
                    log.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
            self.version += 1

    def get(self, record_id: str) -> Optional[Record]:
        return self.records.get(record_id)

    def by_token(self, token: str) -> Optional[Record]:
        return next((r for r in self.records.values() if r.token == token), None)

    def all(self, kind: Optional[str] = None) -> Iterator[Record]:
        with self._lock:
            items = list(self.records.values())
        return (r for r in items if kind is None or r.kind == kind)

    def videos(self, namespace: str) -> list[Record]:
        return [r for r in self.all("video") if r.namespace == namespace]

    def reset(self) -> None:
        with self._lock:
            self.records.clear()
            self.version += 1
            self._log.write_text("", encoding="utf-8")
            for blob in self.blobs.iterdir():
                blob.unlink()


@dataclass
class Stats:
    requests: dict[str, int] = field(default_factory=dict)  # by path
    answers: dict[str, int] = field(default_factory=dict)  # by code or action
    bytes_received: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    # The last requests as received (never the Authorization header), for tests to inspect.
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))

    def count(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1

    def as_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "answers": self.answers, "bytes_received": self.bytes_received,
                "in_flight": self.in_flight, "max_in_flight": self.max_in_flight, "callbacks": self.callbacks,
                "total_requests": sum(self.requests.values()), "log": list(self.log)}
