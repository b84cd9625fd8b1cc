"""One claimed file (or a group of images) on its way: the request, and the attempt it came to.

A `Ready` file is claimed and made (staged, if converted); `send` and `send_images` send
it and say what happened, as an `outcome.Attempt`, not yet decided upon (uploader.apply
writes the decision). The row says `uploading` at the body's first byte (`Started`), not
while the request waits for its rate slot; a ledger that cannot note it ends the attempt
with LedgerError (the caller pauses intake and releases the claim).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from mavi_sync.api.body import Progress
from mavi_sync.api.client import Client
from mavi_sync.api.model import UploadJob, UploadResult
from mavi_sync.errors import (AccountError, ConversionError, FileChanged, LedgerError, PermanentError, StagingFull,
                              TransientError, Unreachable)
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.media.model import Converted
from mavi_sync.pipeline.outcome import Attempt, Kind
from mavi_sync.pipeline.staging import Staging

log = get_logger("mavi_sync.pipeline.uploader")

# Is this error part of an outage? The daemon asks its outage detector (pause.Outage); a
# one-off command knows only that a refused connection is nobody's file's fault.
IsOutage = Callable[[Exception], bool]
Sending = Callable[[int], None]  # told +1 when a file's request starts leaving, -1 when it ends


def unreachable(error: Exception) -> bool:
    return isinstance(error, Unreachable)


@dataclass
class Ready:
    """A file claimed and made ready to leave: its job (and what was staged for it)."""

    path: Path
    record: FileRecord
    job: UploadJob
    started: "Started"
    staged: Optional[Converted]
    is_outage: IsOutage


class Started:
    """The body's progress callback, which also marks the row `uploading` at the first byte
    and counts the request in flight (`sending`) until `ended`."""

    def __init__(self, ledger: Ledger, file_id: int, progress: Optional[Progress],
                 sending: Optional[Sending] = None) -> None:
        self.ledger, self.file_id, self.progress, self.sending = ledger, file_id, progress, sending
        self.left = False  # the body started leaving in this attempt
        self._counted = False

    def __call__(self, sent: int, total: int) -> None:
        if not self.left:
            self.left = True
            if self.sending is not None:
                self._counted = True
                self.sending(1)
            self.ledger.started(self.file_id)
        if self.progress is not None:
            self.progress(sent, total)

    def ended(self) -> None:
        """The request is over (answered, failed or cut off): no longer in flight."""
        if self._counted and self.sending is not None:
            self._counted = False
            self.sending(-1)


def send(ready: Ready, client: Client, ledger: Ledger, staging: Staging) -> Attempt:
    """Send one ready file and say what happened."""
    try:
        result = client.upload(ready.job, ready.started)
    except BaseException as exc:
        return unsent(exc, ready.path, ready.record, ledger, None, ready.is_outage, ready.started.left)
    finally:
        ready.started.ended()
        if ready.staged is not None:
            staging.release(ready.staged)
    return _sent(ready, ledger, result)


def send_images(readies: list[Ready], client: Client, ledger: Ledger, staging: Staging) -> Iterator[Attempt]:
    """Send images together, in as few requests as their fields allow (the client groups
    them); each gets its own attempt, as soon as its request is answered (the caller records
    it before the next request leaves): one the server refuses never costs the others theirs.
    Each request's first byte marks only its own images `uploading`."""
    def progress_of(indices: list[int]) -> Progress:
        def progress(sent: int, total: int) -> None:
            for i in indices:
                readies[i].started(sent, total)
        return progress

    answered: set[int] = set()
    try:
        try:
            for i, outcome in client.each_image([r.job for r in readies], progress_of):
                answered.add(i)
                r = readies[i]
                r.started.ended()  # its request is answered: no longer in flight
                yield (unsent(outcome, r.path, r.record, ledger, None, r.is_outage, r.started.left)
                       if isinstance(outcome, BaseException) else _sent(r, ledger, outcome))
        except AccountError as exc:  # concerns every image not answered yet
            for i, r in enumerate(readies):
                if i not in answered:
                    yield unsent(exc, r.path, r.record, ledger, None, r.is_outage, r.started.left)
    finally:
        for ready in readies:
            ready.started.ended()
            if ready.staged is not None:
                staging.release(ready.staged)


def _sent(ready: Ready, ledger: Ledger, result: UploadResult) -> Attempt:
    current = ledger.get_by_id(ready.record.id) or ready.record
    return Attempt(Kind.SENT, ready.path, current, "adopted an earlier upload" if result.adopted else "", result,
                   sent_sha256=ready.staged.sha256 if ready.staged else None)


def unsent(exc: BaseException, path: Path, record: FileRecord, ledger: Ledger, convert: Optional[str],
            is_outage: IsOutage, left: bool = False) -> Attempt:
    """The attempt an error ended, before or while sending (`left`: the body started leaving)."""
    if isinstance(exc, ConversionError):
        what = {"jpeg": "JPEG", "mp4": "MP4", "h264": "H.264", "clip": "a video"}.get(convert or "", "MP4")
        return Attempt(Kind.REFUSED, path, record, f"cannot be converted to {what}: {exc}", error=exc)
    if isinstance(exc, StagingFull):
        return Attempt(Kind.ATTEMPT_FAILED, path, record, str(exc), error=exc)
    if isinstance(exc, AccountError):
        return Attempt(Kind.ACCOUNT, path, record, str(exc), error=exc, body_left=left)
    if isinstance(exc, PermanentError):
        return Attempt(Kind.REFUSED, path, record, str(exc), error=exc, body_left=left)
    if isinstance(exc, (FileChanged, TransientError)):
        return Attempt(Kind.ATTEMPT_FAILED, path, record, str(exc), error=exc, outage=is_outage(exc), body_left=left)
    if isinstance(exc, LedgerError):  # the ledger could not note the start: the caller pauses intake
        raise exc
    if isinstance(exc, OSError):  # no helper process to be had, or the staging disk: not the file's fault
        error = TransientError(f"cannot prepare {path.name} for upload now ({exc.strerror or exc})")
        return Attempt(Kind.ATTEMPT_FAILED, path, record, str(error), error=error)
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not an attempt's outcome
        raise exc
    # A bug or an unforeseen error: never leave the row claimed.
    log.error("upload_crashed", path=str(path), error=repr(exc), error_type=exc.__class__.__name__,
              hint="This is a bug in mavi-sync; the file is tried again later. Please report it.")
    return Attempt(Kind.CRASHED, path, ledger.get_by_id(record.id) or record,
                   f"unexpected error: {exc.__class__.__name__}", error=exc)
