"""Where the work stands: counters the engine keeps and the snapshot that status lines,
the `sync` progress bar and the metrics read. Plain data: readers need not know the engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Mapping, Optional


@dataclass
class Counters:
    """Since start. Changed under the engine's intake lock (+= is not atomic across threads)."""

    uploaded: int = 0
    bytes_sent: int = 0
    in_flight: int = 0  # files a worker has: reading, converting, waiting for a slot, sending
    retries: int = 0
    # Files whose request is in flight: its body started leaving, no answer yet. What
    # `status` and the metrics call uploading (a worker waiting for its slot sends nothing).
    sending: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def sending_changed(self, delta: int) -> None:
        """A request started (+1) or ended (-1); called from the workers' threads."""
        with self._lock:
            self.sending += delta


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
