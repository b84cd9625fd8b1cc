"""Where the work stands: counters the engine keeps and the snapshot that status lines,
the `sync` progress bar and the metrics read. Plain data: readers need not know the engine."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional


@dataclass
class Transfer:
    """One path a worker has now, and how far its request body got (the web page's bar)."""

    path: Path
    since: float  # time.monotonic() when the worker took it
    sent: int = 0  # body bytes handed to the socket, in this attempt
    total: int = 0  # the body's size (0 until it starts leaving)
    first_byte: Optional[float] = None  # monotonic; the rate counts from here


@dataclass
class Counters:
    """Since start. Changed under the engine's intake lock (+= is not atomic across threads),
    except a transfer's bytes: only its own worker writes them."""

    uploaded: int = 0
    bytes_sent: int = 0
    in_flight: int = 0  # files a worker has: reading, converting, waiting for a slot, sending
    retries: int = 0
    # Files whose request is in flight: its body started leaving, no answer yet. What
    # `status` and the metrics call uploading (a worker waiting for its slot sends nothing).
    sending: int = 0
    transfers: dict[Path, Transfer] = field(default_factory=dict)
    moved: int = 0  # body bytes of the attempts that ended (sent or cut off): with those in flight, the rate
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def sending_changed(self, delta: int) -> None:
        """A request started (+1) or ended (-1); called from the workers' threads."""
        with self._lock:
            self.sending += delta

    def begin(self, path: Path) -> None:
        """A worker took `path` (under the engine's lock)."""
        self.in_flight += 1
        self.transfers[path] = Transfer(path, time.monotonic())

    def end(self, path: Path) -> None:
        """The worker is done with `path` (under the engine's lock)."""
        self.in_flight -= 1
        done = self.transfers.pop(path, None)
        self.moved += done.sent if done is not None else 0

    def progress_of(self, path: Path) -> Callable[[int, int], None]:
        """The body's progress callback for `path` (called on its worker's thread, per read)."""
        def progress(sent: int, total: int) -> None:
            transfer = self.transfers.get(path)
            if transfer is not None:
                if transfer.first_byte is None:
                    transfer.first_byte = time.monotonic()
                transfer.sent, transfer.total = sent, total
        return progress

    def now(self) -> tuple[list[Transfer], int]:
        """The transfers in flight (copies) and every body byte moved since start."""
        current = [Transfer(t.path, t.since, t.sent, t.total, t.first_byte) for t in list(self.transfers.values())]
        return current, self.moved + sum(t.sent for t in current)


@dataclass(frozen=True)
class Snapshot:
    """Where the work stands, for status lines and the `sync` progress bar."""

    queued: int  # settling, waiting for a worker, or waiting for a retry
    uploading: int  # requests in flight
    following: int  # uploaded; waiting for the remote side to confirm
    confirmed: int
    failed: int
    rejected: int  # refused with a reason, or vanished before upload
    bytes_sent: int
    paused: Optional[str]

    @classmethod
    def of(cls, counts: Mapping[tuple[str, str], int], waiting: int, counters: Counters,
           paused: Optional[str]) -> "Snapshot":
        """From the ledger's counts by (state, target), the paths not yet in it (`waiting`:
        settling or queued) and the engine's counters."""
        by_state: dict[str, int] = {}
        for (state, _target), n in counts.items():
            by_state[state] = by_state.get(state, 0) + n
        return cls(queued=waiting + by_state.get("ready", 0) + by_state.get("discovered", 0),
                   uploading=counters.sending, following=by_state.get("uploaded", 0),
                   confirmed=by_state.get("confirmed", 0), failed=by_state.get("failed", 0),
                   rejected=by_state.get("rejected", 0) + by_state.get("vanished", 0),
                   bytes_sent=counters.bytes_sent, paused=paused)

    @property
    def finished(self) -> int:
        return self.confirmed + self.failed + self.rejected

    @property
    def pending(self) -> int:
        return self.queued + self.uploading + self.following

    def summary(self) -> str:
        """The one-line status for systemd and logs: queued / uploading / done / failed."""
        text = (f"queued {self.queued}, uploading {self.uploading}, done {self.confirmed + self.following}, "
                f"failed {self.failed}")
        return text + (f"; PAUSED: {self.paused}" if self.paused else "")
