"""The status page's document: where every folder stands, what is in flight, why uploads
wait, what failed, the last events and captions, built from the ledger (a connection of the
page's own) and the daemon's counters.

Built at most once a second, and only while someone looks: every request in that second
is served the same document, so a page left open, or ten of them, cost one build a second,
and a daemon nobody looks at costs nothing. On a big ledger a build takes longer (0.5 s at
100,000 files) and the next waits twenty times that. Each build's work is bounded: aggregate
queries, at most LIST rows per list, at most STAT_BUDGET files measured on disk.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from mavi_sync.captions.store import captions
from mavi_sync.config.schema import Config
from mavi_sync.errors import MaviSyncError
from mavi_sync.owner.gate import GateState
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import recent
from mavi_sync.readout.report import status_json
from mavi_sync.engine.snapshot import Counters, Transfer
from mavi_sync.ledger.states import State

LIST = 50  # rows per list (failed, waiting, refusal reasons, recent files)
CAPTIONS = 200  # the recent captions a search looks through
EVENTS = 30
STAT_BUDGET = 5000  # queued files measured per build; more are measured by the next ones
RATE_WINDOW_S = 60.0
MIN_INTERVAL_S = 1.0
BUILD_SHARE = 20  # a build waits at least this many times as long as the last one took
PENDING = ("ready", "discovered", "uploading")
WORDS = {"ready": "queued", "discovered": "queued", "uploading": "uploading", "uploaded": "confirming",
         "confirmed": "confirmed", "rejected": "refused", "failed": "failed", "vanished": "gone"}


@dataclass(frozen=True)
class Sources:
    """What the page reads from the running daemon, handed in by daemon.py (it need not know the engine)."""

    counters: Counters
    queue: "queue.Queue[Path]"  # the engine's: paths waiting for a worker
    settling: Callable[[], int]  # paths intake holds until they are quiet
    pause: Callable[[], Optional[tuple[str, str]]]  # the engine's pause: (reason, detail)
    gate: Callable[[], Optional[GateState]]  # windows and a pause by hand, as last applied
    config: Callable[[], Config]  # the config in force (a reload changes the folders)


def peek(q: "queue.Queue[Path]") -> list[Path]:
    """A copy of what the queue holds, under its own lock (a worker's get waits that long)."""
    with q.mutex:
        return list(q.queue)


class Board:
    def __init__(self, sources: Sources, ledger: Ledger, *, clock: Callable[[], float] = time.time,
                 tick: Callable[[], float] = time.monotonic) -> None:
        self.sources, self.ledger, self.clock, self.tick = sources, ledger, clock, tick
        self._lock = threading.Lock()
        self._doc: Optional[dict[str, Any]] = None
        self._built = -1e9  # monotonic
        self._interval = MIN_INTERVAL_S
        self._sizes: dict[Path, tuple[int, str]] = {}  # queued path → (bytes, folder), measured once
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic, body bytes moved) for the rate

    def document(self) -> dict[str, Any]:
        """The latest document; built again when it is older than a second (or than twenty
        times the last build took: on a ledger so big that a build is slow, the page's reads
        take at most a twentieth of a core)."""
        with self._lock:
            if self._doc is None or self.tick() - self._built >= self._interval:
                started = time.perf_counter()
                self._doc = self._build()
                took = time.perf_counter() - started
                self._doc["build_ms"] = round(took * 1000, 1)
                self._built, self._interval = self.tick(), max(MIN_INTERVAL_S, BUILD_SHARE * took)
            return self._doc

    def _build(self) -> dict[str, Any]:
        now, config = self.clock(), self.sources.config()
        transfers, moved = self.sources.counters.now()
        rate = self._rate(moved)
        queued = self._queued(config)
        try:
            status = status_json(self.ledger, now)
            folders = self._folders(config, now, queued, transfers)
            lists = self._lists(now)
        except MaviSyncError as exc:  # the ledger cannot be read: say so (healthz answers 503)
            return {"generated_at": now, "error": str(exc), "pid": str(os.getpid()), "held": self._held()}
        to_go = sum(f["queued"] + f["uploading"] + f["waiting"] for f in folders)
        to_go_bytes = max(0, sum(f["bytes_to_go"] for f in folders) - sum(t.sent for t in transfers))
        held = self._held()
        return {
            "generated_at": now, "pid": str(os.getpid()), "status": status, "held": held,
            "totals": {"files_to_go": to_go, "bytes_to_go": to_go_bytes, "unmeasured": queued["unmeasured"],
                       "settling": self.sources.settling(), "done": sum(f["done"] for f in folders),
                       "rate_bytes_per_s": rate,
                       "eta_s": round(to_go_bytes / rate) if rate and to_go_bytes and not held else None},
            "folders": folders,
            "uploading": [_transfer(t, time.monotonic()) for t in transfers],
            "files": [{"path": str(p), "state": "queued", "target": None, "error": None, "when": None}
                      for p in queued["first"]] + lists.pop("recent"),  # what is next, then what happened last
            **lists,
            "events": recent.last(EVENTS),
        }

    def _held(self) -> list[dict[str, str]]:
        """Why nothing is sent now: a pause by hand, the windows, the account, an outage, the ledger."""
        held = []
        gate = self.sources.gate()
        if gate is not None and gate.held:
            held.append({"kind": "hand" if gate.hand is not None else "window", "text": gate.held})
        pause = self.sources.pause()
        if pause is not None:
            reason, detail = pause
            kind = reason if reason in ("outage", "ledger") else "account"
            held.append({"kind": kind, "text": f"{reason}: {detail}" if detail else reason})
        return held

    def _rate(self, moved: int) -> Optional[float]:
        """Bytes per second over the last minute of builds (None until two are a second apart)."""
        at = self.tick()
        self._samples.append((at, moved))
        while self._samples and at - self._samples[0][0] > RATE_WINDOW_S:
            self._samples.popleft()
        first_at, first = self._samples[0]
        return round((moved - first) / (at - first_at)) if at - first_at >= 1.0 else None

    def _queued(self, config: Config) -> dict[str, Any]:
        """The engine's queue by folder, with its files' sizes (each measured once, at most
        STAT_BUDGET a build; those not yet measured are counted, not guessed)."""
        paths = peek(self.sources.queue)
        sizes, budget = {}, STAT_BUDGET
        for path in paths:
            known = self._sizes.get(path)
            if known is None and budget > 0:
                budget -= 1
                folder = config.folder_for(path)
                try:
                    known = (os.stat(path).st_size, str(folder.path) if folder else "")
                except OSError:
                    known = (0, str(folder.path) if folder else "")
            if known is not None:
                sizes[path] = known
        self._sizes = sizes  # what left the queue is forgotten
        return {"sizes": sizes, "unmeasured": len(paths) - len(sizes), "first": paths[:5]}

    def _folders(self, config: Config, now: float, queued: dict[str, Any], transfers: list[Any]) -> list[dict[str, Any]]:
        rows = {str(f.path): {"path": str(f.path), "target": f.target, "done": 0, "confirming": 0, "queued": 0,
                              "uploading": 0, "waiting": 0, "refused": 0, "failed": 0, "bytes_to_go": 0}
                for f in config.folders}
        for folder, state, n, size, waiting in self.ledger.by_folder(now):
            row = rows.get(folder)
            if row is None:  # a folder no longer in the config
                continue
            key = {"confirmed": "done", "uploaded": "confirming", "rejected": "refused", "failed": "failed"}.get(state)
            if key is not None:
                row[key] += n
            elif state in PENDING:
                row["queued"] += n - waiting
                row["waiting"] += waiting
                row["bytes_to_go"] += size
        for size, folder in queued["sizes"].values():
            if folder in rows:
                rows[folder]["queued"] += 1
                rows[folder]["bytes_to_go"] += size
        for transfer in transfers:
            folder = config.folder_for(transfer.path)
            if folder is not None and str(folder.path) in rows:
                row = rows[str(folder.path)]
                row["uploading"] += 1
                row["queued"] = max(0, row["queued"] - 1)  # (taken off the queue, its row still ready)
        return list(rows.values())

    def _gone(self, file_id: int) -> Optional[str]:
        """Where the bytes of a row no watched path holds any more went ("… (archived)"), as `status` says."""
        place = self.ledger.place_of(file_id)
        return place.describe() if place is not None else None

    def _lists(self, now: float) -> dict[str, list[dict[str, Any]]]:
        def rows(found: list[Any]) -> list[dict[str, Any]]:
            return [{"id": r.id, "path": os.fsdecode(p) if p is not None else self._gone(r.id), "folder": folder,
                     "state": "waiting" if r.state is State.READY and (r.next_attempt_at or 0) > now
                     else WORDS[r.state.value], "target": r.target, "error": r.last_error, "when": r.updated_at,
                     "next_attempt_at": r.next_attempt_at} for r, p, folder in found]

        return {
            "recent": rows(self.ledger.with_paths(limit=15)),
            "failed": rows(self.ledger.with_paths(state=State.FAILED, limit=LIST)),
            "waiting": rows(self.ledger.with_paths(waiting_after=now, limit=LIST)),
            "refused": [{"folder": f, "reason": reason, "files": n} for f, reason, n in self.ledger.refusals(LIST)],
            "captions": [c.as_json() for c in captions(self.ledger, limit=CAPTIONS, scan=CAPTIONS * 5)],
        }


def _transfer(t: Transfer, now: float) -> dict[str, Any]:
    """One upload in flight; its rate counts from its body's first byte (the transfers' clock is monotonic)."""
    moving = now - t.first_byte if t.first_byte is not None else 0.0
    return {"path": str(t.path), "sent": t.sent, "total": t.total, "for_s": round(now - t.since, 1),
            "rate_bytes_per_s": round(t.sent / moving) if moving > 0 else None}


def search(doc: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """The document's recent captions holding `text` (any case); all of them for ""."""
    needle = text.strip().lower()
    return [c for c in doc.get("captions", []) if needle in c["text"].lower()]
