"""The log events that tell a file's story, written in one place so that each outcome is
logged once, with the same keys wherever it is decided (STYLE: few, rich events)."""

from __future__ import annotations

from typing import Any, Optional

from mavi_sync.errors import Held
from mavi_sync.ledger import FileRecord
from mavi_sync.logs import get_logger
from mavi_sync.outcome import Kind
from mavi_sync.uploader import Outcome

log = get_logger("mavi_sync.events")


def _fields(path: Optional[str], r: Optional[FileRecord]) -> dict[str, Any]:
    return {"path": path, "target": r.target if r else None, "sha256": r.sha256 if r else None,
            "size": r.size if r else None, "attempt": r.attempts if r else None}


def attempt_logged(o: Outcome, seconds: float, now: float) -> None:
    """Log what one attempt came to (nothing for known, waiting or lost claims)."""
    r, fields = o.record, _fields(str(o.path), o.record)
    if o.kind is Kind.SENT and o.result is not None:
        caption = o.result.details.get("text") if o.result.details else None  # security, sync
        log.info("upload_succeeded", remote_id=o.result.remote_id, adopted=o.result.adopted,
                 duration_ms=int(seconds * 1000), **fields, **({"caption": caption} if caption else {}))
    elif o.kind is Kind.REFUSED:
        log.warning("media_rejected", reason=o.detail, **fields)
    elif isinstance(o.error, Held):
        log.info("upload_held", reason=o.detail, **fields, hint="sent again, from the start, once uploads may go")
    elif o.kind in (Kind.ATTEMPT_FAILED, Kind.CRASHED) and o.state.value == "failed":
        log.error("upload_failed", error=o.detail, **fields)
    elif o.kind in (Kind.ATTEMPT_FAILED, Kind.CRASHED) and r is not None and r.next_attempt_at:
        # (a file that changed while sent has no retry time: settling decides when it is done)
        log.warning("upload_retrying", error=o.detail, wait_s=round(r.next_attempt_at - now, 1), **fields)
    elif o.kind is Kind.VANISHED:
        log.info("file_vanished", path=str(o.path))
    elif o.kind is Kind.SKIPPED:
        log.info("file_skipped", path=str(o.path), reason=o.detail, sha256=r.sha256 if r else None)
    elif o.kind is Kind.UNFINISHED:
        log.info("file_unfinished", path=str(o.path), reason=o.detail,
                 hint="not refused yet: it settles again until incomplete_grace_s has passed")


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
