"""Where the work stands: counters the engine keeps and the snapshot that status lines,
the `sync` progress bar and the metrics read. Plain data: readers need not know the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class Counters:
    """Since start. Changed under the engine's intake lock (+= is not atomic across threads)."""

    uploaded: int = 0
    bytes_sent: int = 0
    in_flight: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Snapshot:
    """Where the work stands, for status lines and the `sync` progress bar."""

    queued: int  # settling, waiting for a worker, or waiting for a retry
    uploading: int
    following: int  # uploaded; waiting for the remote side to confirm
    confirmed: int
    failed: int
    rejected: int  # refused with a reason, or vanished before upload
    bytes_sent: int
    paused: Optional[str]

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
