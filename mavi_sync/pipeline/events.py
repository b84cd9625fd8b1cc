"""The log events that tell a file's story, written in one place so that each outcome is
logged once, with the same keys wherever it is decided (STYLE: few, rich events).

Every attempt that moves a file's row gets one line. A file that *waits* (not finished
being written, held by an upload window or a pause, changed while it was sent, waiting for
room to be converted, caught in an outage) comes back on every settle interval or trial,
for minutes: it is logged when it starts waiting and when it is decided (the decision's
line carries `waited_s`), never on every round. `Story` remembers who waits, and so can
name the oldest of them for `status`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from mavi_sync.errors import FileChanged, Held, Interrupted, StagingFull
from mavi_sync.ledger.records import FileRecord
from mavi_sync.logs import get_logger
from mavi_sync.pipeline.outcome import Kind
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.uploader import Outcome

log = get_logger("mavi_sync.pipeline.events")

# Outcomes that neither decide a file nor start a wait: nothing to say (not its turn yet,
# another worker has it, an account problem: `uploads_paused` says that once for all).
_SILENT = frozenset({Kind.WAITING, Kind.CLAIM_LOST, Kind.ACCOUNT})


@dataclass(frozen=True)
class Wait:
    """A file the daemon holds back, and why, since when (wall clock)."""

    path: str
    why: str  # unfinished, held, changed, staging, outage, stopped
    detail: str
    since: float

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "why": self.why, "detail": self.detail, "since": self.since}


def wait_of(o: Outcome) -> Optional[str]:
    """Why this outcome leaves its file waiting, or None when it decides the file (or says
    nothing). Waits are nobody's fault: no attempt is counted for them."""
    if o.kind is Kind.UNFINISHED:
        return "unfinished"
    if o.kind not in (Kind.ATTEMPT_FAILED, Kind.CRASHED) or o.state is not State.READY:
        return None
    if isinstance(o.error, Held):
        return "held"
    if isinstance(o.error, Interrupted):
        return "stopped"
    if isinstance(o.error, FileChanged):
        return "changed"
    if isinstance(o.error, StagingFull):
        return "staging"
    return "outage" if o.outage else None


class Story:
    """The log lines of each file's attempts (the engine's, one instance). Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._waiting: dict[str, Wait] = {}
        self._lock = threading.Lock()

    def attempt(self, o: Outcome, seconds: float, now: float) -> None:
        """Log what one attempt came to: once per decision, once per wait."""
        path = str(o.path)
        why = wait_of(o)
        with self._lock:
            before = self._waiting.get(path)
            if why is not None:
                if before is not None and before.why == why:
                    return  # still waiting, for the same reason: said already
                self._waiting[path] = Wait(path, why, o.detail, before.since if before else now)
            elif o.kind not in _SILENT:
                self._waiting.pop(path, None)
        if o.kind in _SILENT:
            return
        waited = {"waited_s": round(now - before.since, 1)} if before is not None and why is None else {}
        if o.kind is Kind.KNOWN:  # a copy of content already sent: news only as the end of a wait
            if waited:
                log.info("file_known", path=path, sha256=o.record.sha256 if o.record else None, detail=o.detail,
                         **waited)
            return
        _attempt_line(o, seconds, now, waited)

    def gone(self, path: Path) -> None:
        """`path` disappeared while it settled. An unfinished file is decided by that (it has
        no row for a worker to find gone); one with a row is, when the worker finds it gone."""
        with self._lock:
            before = self._waiting.get(str(path))
            if before is None or before.why != "unfinished":
                return
            del self._waiting[str(path)]
        log.info("file_vanished", path=str(path), waited_s=round(self.clock() - before.since, 1))

    def oldest(self, keep: Callable[[Path], bool]) -> Optional[Wait]:
        """The file waiting longest, among those `keep` still wants (in a watched folder,
        still there); the others are forgotten."""
        with self._lock:
            for path in [p for p in self._waiting if not keep(Path(p))]:
                del self._waiting[path]
            return min(self._waiting.values(), key=lambda w: w.since, default=None)


def _fields(path: Optional[str], r: Optional[FileRecord]) -> dict[str, Any]:
    return {"path": path, "target": r.target if r else None, "sha256": r.sha256 if r else None,
            "size": r.size if r else None, "attempt": r.attempts if r else None}


def _attempt_line(o: Outcome, seconds: float, now: float, waited: dict[str, float]) -> None:
    """The one line for this outcome, chosen by where it left the row."""
    r, fields = o.record, {**_fields(str(o.path), o.record), **waited}
    if o.kind is Kind.SENT and o.result is not None:
        caption = o.result.details.get("text") if o.result.details else None  # security, sync
        log.info("upload_succeeded", remote_id=o.result.remote_id, adopted=o.result.adopted,
                 duration_ms=int(seconds * 1000), **fields, **({"caption": caption} if caption else {}))
    elif o.kind is Kind.REFUSED:
        log.warning("media_rejected", reason=o.detail, **fields)
    elif o.kind is Kind.SKIPPED:
        log.info("file_skipped", path=str(o.path), reason=o.detail, sha256=r.sha256 if r else None, **waited)
    elif o.kind is Kind.VANISHED:
        log.info("file_vanished", path=str(o.path), **waited)
    elif o.kind is Kind.UNFINISHED:
        log.info("file_unfinished", path=str(o.path), reason=o.detail,
                 hint="not refused yet: it settles again until incomplete_grace_s has passed")
    elif o.kind in (Kind.ATTEMPT_FAILED, Kind.CRASHED):
        _failed_line(o, now, fields)


def _failed_line(o: Outcome, now: float, fields: dict[str, Any]) -> None:
    """An attempt that sent nothing the server kept: refused at last, failed, or to be tried again."""
    r = o.record
    if o.state is State.REJECTED:  # the same ambiguous answer on every attempt: a refusal, at last
        log.warning("media_rejected", reason=r.last_error if r else o.detail, **fields)
    elif o.state is State.FAILED:
        log.error("upload_failed", error=o.detail, retry_at=r.next_attempt_at if r else None, **fields)
    elif isinstance(o.error, Held):
        log.info("upload_held", reason=o.detail, **fields, hint="sent again, from the start, once uploads may go")
    elif r is not None and r.next_attempt_at and r.next_attempt_at > now:
        log.warning("upload_retrying", error=o.detail, wait_s=round(r.next_attempt_at - now, 1), **fields)
    else:  # changed while sent, or a stop cut it short: settling, or the next start, decides when
        log.info("upload_retrying", error=o.detail, wait_s=None, **fields,
                 hint=getattr(o.error, "hint", None) or "sent again once it has settled")


def status_logged(path: Optional[str], before: FileRecord, after: FileRecord, raw: Optional[str],
                  cause: str) -> None:
    """Log a remote status that changed, and a remote failure as the file's `upload_failed`."""
    if raw != before.remote_status:
        log.info("remote_status_changed", path=path, sha256=before.sha256, target=before.target,
                 remote_id=before.remote_id, status=raw, cause=cause or None)
    if after.state.value == "failed":
        log.error("upload_failed", error=after.last_error, retry_at=after.next_attempt_at,
                  **_fields(path, before))


def skipped_logged(path: str, reason: str) -> None:
    log.warning("file_skipped", path=path, reason=reason)


def caption_logged(path: Optional[str], text: str, *, via: str, written: Optional[str] = None,
                   error: Optional[str] = None) -> None:
    """A caption that arrived later (`via` "callback"), or was written to a sidecar file."""
    if error is not None:
        log.warning("caption_write_failed", path=path, error=error, hint="the caption stays in the ledger "
                    "(mavi-sync captions); check the folder's caption_sidecar and its permissions")
    elif via == "callback":
        log.info("caption_received", path=path, caption=text, sidecar=written)
    elif written is not None:
        log.info("caption_written", path=path, sidecar=written)
