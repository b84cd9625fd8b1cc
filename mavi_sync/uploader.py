"""One file through the pipeline: hash, plan, ledger, upload, record the outcome.

Every step is written to the ledger before the next one starts, so a crash at any
point leaves a state the next run can resume from: `uploading` means "the server
may hold it" and makes the next attempt look the video up before sending again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.api.body import Progress
from mavi_sync.api.client import Client
from mavi_sync.api.follow import PollPolicy, follow
from mavi_sync.api.model import DONE, FAILED, RemoteStatus, UploadResult
from mavi_sync.api.retry import backoff_s
from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.errors import AccountError, ClaimLost, FileChanged, PermanentError, TransientError, Unreachable
from mavi_sync.hashing import sha256_file
from mavi_sync.ledger import FileRecord, Ledger
from mavi_sync.logs import get_logger
from mavi_sync.media.prober import Prober, probe_here
from mavi_sync.plan import FilePlan, job_for, metadata_record, plan_file
from mavi_sync.states import State

DONE_STATES = frozenset({State.UPLOADED, State.CONFIRMED})

log = get_logger("mavi_sync.uploader")


@dataclass(frozen=True)
class Outcome:
    path: Path
    state: State
    record: Optional[FileRecord]
    detail: str = ""  # why (refusal, error), or what happened ("already uploaded")
    result: Optional[UploadResult] = None
    error: Optional[Exception] = None  # what went wrong, typed (the daemon tells outages apart)


def hash_if_changed(path: Path, st: os.stat_result, ledger: Ledger) -> str:
    """The file's sha256, reusing the ledger's when size, mtime, inode and device are unchanged."""
    known = ledger.lookup_path(path)
    if known is not None and known.matches(st):
        return known.sha256
    return sha256_file(path)


def register(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, target: Optional[str] = None,
             probe: Prober = probe_here) -> tuple[FilePlan, os.stat_result, FileRecord]:
    """Hash and plan the file and make sure the ledger has its row (and this path). Raises OSError."""
    st = os.stat(path)
    sha = hash_if_changed(path, st, ledger)
    plan = plan_file(path, folder, sha256=sha, with_sha_tag=config.uploads.video_sha_tag, info=probe(path))
    verdict = plan.targets[target].verdict if target else plan.chosen
    record = ledger.add(sha, verdict.target, folder.unique_id, st.st_size, media_type=plan.info.family,
                        metadata=metadata_record(plan), capture_time=plan.capture.local.isoformat())
    ledger.record_path(path, sha, st, str(folder.path), record.id)
    if record.state == State.DISCOVERED:
        record = (ledger.transition(record.id, State.READY) if verdict.accepted else
                  ledger.transition(record.id, State.REJECTED, last_error=verdict.reason))
    return plan, st, record


def upload_path(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, client: Client, *,
                target: Optional[str] = None, progress: Optional[Progress] = None,
                clock: Callable[[], float] = time.time, unattended: bool = False,
                probe: Prober = probe_here) -> Outcome:
    """Upload one file unless the ledger says its content is already there.
    `unattended` (the daemon): a file waiting for its next attempt waits, and rejected or
    failed content is not tried again here (that is `mavi-sync retry`, or the cool-down).
    `probe` is where the file is read (the daemon's is a helper process, prober.py).
    Raises AccountError (the caller pauses everything); every other problem is an Outcome."""
    try:
        plan, st, record = register(path, folder, config, ledger, target, probe)
    except FileNotFoundError:
        return Outcome(path, State.VANISHED, None, "the file disappeared before it was read")
    except OSError as exc:
        return Outcome(path, State.FAILED, None, f"cannot read: {exc.strerror}")
    if record.state in DONE_STATES:
        return Outcome(path, record.state, record, f"already uploaded ({record.remote_id})")
    if record.state == State.REJECTED and not plan.targets[record.target].verdict.accepted:
        return Outcome(path, State.REJECTED, record, record.last_error or "refused")
    if unattended and _not_now(record, clock()):
        return Outcome(path, record.state, record, record.last_error or "waiting for its next attempt")
    if record.state in (State.REJECTED, State.FAILED, State.VANISHED):  # asked again: try again
        record = ledger.transition(record.id, State.READY)
    maybe_sent = record.state == State.UPLOADING  # an attempt was cut off (crash, kill)
    try:  # the claim: only one worker or process moves this row on from what it read
        record = ledger.transition(record.id, State.UPLOADING, expect=(record.state, record.attempts),
                                   attempts=record.attempts + 1, last_error=None)
    except ClaimLost:
        current = ledger.get_by_id(record.id) or record
        return Outcome(path, current.state, current, "taken by another worker")
    try:
        result = client.upload(job_for(plan, st, target=record.target, maybe_sent=maybe_sent), progress)
    except AccountError as exc:
        ledger.transition(record.id, State.READY, attempts=record.attempts - 1, last_error=str(exc))
        raise
    except (FileChanged, PermanentError, TransientError) as exc:
        record = _after_error(ledger, record, exc, config, clock)
        return Outcome(path, record.state, record, str(exc), error=exc)
    except Exception as exc:  # a bug or an unforeseen OS error: never leave the row claimed
        log.error("upload_crashed", path=str(path), error=repr(exc), error_type=exc.__class__.__name__,
                  hint="This is a bug in mavi-sync; the file is tried again later. Please report it.")
        record = _after_error(ledger, record, TransientError(f"unexpected error: {exc.__class__.__name__}"),
                              config, clock)
        return Outcome(path, record.state, record, str(record.last_error))
    record = record_result(ledger, record, result, clock)
    return Outcome(path, record.state, record, "adopted an earlier upload" if result.adopted else "", result)


def _not_now(record: FileRecord, now: float) -> bool:
    if record.state in (State.REJECTED, State.FAILED):
        return True
    return record.state == State.READY and record.next_attempt_at is not None and record.next_attempt_at > now


def _after_error(ledger: Ledger, record: FileRecord, exc: Exception, config: Config,
                 clock: Callable[[], float]) -> FileRecord:
    u = config.uploads
    if isinstance(exc, PermanentError):
        return ledger.transition(record.id, State.REJECTED, last_error=str(exc))
    if isinstance(exc, FileChanged):  # not the file's fault nor the server's: no attempt used up
        return ledger.transition(record.id, State.READY, attempts=record.attempts - 1, last_error=str(exc))
    if isinstance(exc, Unreachable):  # an outage: no attempt used up, however long it lasts
        wait = backoff_s(record.attempts, u.retry_initial_s, u.retry_max_s)
        return ledger.transition(record.id, State.READY, attempts=record.attempts - 1, last_error=str(exc),
                                 next_attempt_at=clock() + wait)
    if record.attempts >= u.max_attempts:
        return ledger.transition(record.id, State.FAILED, last_error=str(exc),
                                 next_attempt_at=clock() + u.failed_cooldown_s if u.failed_cooldown_s else None)
    wait = backoff_s(record.attempts, u.retry_initial_s, u.retry_max_s)
    return ledger.transition(record.id, State.READY, last_error=str(exc), next_attempt_at=clock() + wait)


def record_result(ledger: Ledger, record: FileRecord, result: UploadResult,
                  clock: Callable[[], float] = time.time) -> FileRecord:
    """The server took the file: `confirmed` when its answer is final, else `uploaded` (to follow)."""
    state = State.CONFIRMED if result.final else State.UPLOADED
    return ledger.transition(record.id, state, remote_id=result.remote_id, remote_status=result.remote_status,
                             result=dict(result.details) or None, uploaded_at=clock(), next_attempt_at=None)


def record_status(ledger: Ledger, record: FileRecord, status: RemoteStatus) -> FileRecord:
    """Write what the server says about an uploaded file; DONE confirms it, FAILED fails it."""
    if status.state == DONE:
        return ledger.transition(record.id, State.CONFIRMED, remote_status=status.raw, polls=record.polls + 1)
    if status.state == FAILED:
        return ledger.transition(record.id, State.FAILED, remote_status=status.raw, polls=record.polls + 1,
                                 last_error=f"memories.ai could not process it: {status.raw} ({status.cause})")
    return ledger.transition(record.id, State.UPLOADED, remote_status=status.raw or "not visible yet",
                             polls=record.polls + 1)


def follow_record(ledger: Ledger, client: Client, record: FileRecord, policy: PollPolicy) -> FileRecord:
    """Poll an uploaded file's status until it is final or the give-up time passes (then flagged)."""
    current = [record]

    def check() -> RemoteStatus:
        assert current[0].remote_id is not None
        status = client.status(current[0].target, current[0].remote_id, current[0].namespace)
        current[0] = record_status(ledger, current[0], status)
        return status

    followed = follow(check, policy, stop=client.stop)
    if followed.gave_up and current[0].state == State.UPLOADED:
        current[0] = ledger.transition(current[0].id, State.UPLOADED, last_error=(
            f"remote status still {current[0].remote_status} after {policy.give_up_s:g} s"))
    return current[0]


def poll_policy(config: Config) -> PollPolicy:
    u = config.uploads
    return PollPolicy(u.status_poll_initial_s, u.status_poll_max_s, u.status_give_up_s)
