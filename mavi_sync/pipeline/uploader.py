"""One file through the pipeline: hash, plan, register, claim, send; the attempt's outcome
decided by `outcome.decide` and written in one ledger write.

Every step is written to the ledger before the next one starts, so a crash at any point
leaves a state the next run can resume from. The row says `uploading` from the moment the
request's body starts leaving (not while the worker waits for its rate-limit slot), and
from then on `lookup_due` says "the server may hold it": the next attempt at a video looks
it up by its sha256 tag first, however many attempts fail in between, until the server
holds it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timezone
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.api.body import Progress
from mavi_sync.api.client import Client
from mavi_sync.api.follow import PollPolicy
from mavi_sync.api.model import UploadResult
from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.errors import AccountError, ClaimLost, FileChanged
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.store import Ledger
from mavi_sync.media.model import Converted
from mavi_sync.media.prober import Prober, convert_here, probe_here
from mavi_sync.media.rules import LIMITS
from mavi_sync.pipeline.outcome import Attempt, Kind, RetryRules, decide, looks_unfinished
from mavi_sync.pipeline.sending import IsOutage, Ready, Sending, Started, send, unsent, unreachable
from mavi_sync.media.pairs import Pair, skipped_half
from mavi_sync.pipeline.plan import FilePlan, job_for, live_photo, metadata_record, plan_file, with_pair_tag
from mavi_sync.pipeline.staging import Staging
from mavi_sync.pipeline.stamp import last_change_s, signature
from mavi_sync.ledger.states import State

DONE_STATES = frozenset({State.UPLOADED, State.CONFIRMED})


@dataclass(frozen=True)
class Outcome:
    """An attempt and the row as its decision left it."""

    kind: Kind
    path: Path
    state: State
    record: Optional[FileRecord]
    detail: str = ""
    result: Optional[UploadResult] = None
    error: Optional[Exception] = None
    outage: bool = False


def rules_of(config: Config) -> RetryRules:
    """The [uploads] settings the outcome decisions use."""
    u = config.uploads
    return RetryRules(u.max_attempts, u.retry_initial_s, u.retry_max_s, u.failed_cooldown_s, poll_policy(config))


def poll_policy(config: Config) -> PollPolicy:
    u = config.uploads
    return PollPolicy(u.status_poll_initial_s, u.status_poll_max_s, u.status_give_up_s)


def hash_if_changed(path: Path, st: os.stat_result, ledger: Ledger) -> str:
    """The file's sha256, reusing the ledger's when size, mtime, inode and device are unchanged."""
    known = ledger.lookup_path(path)
    if known is not None and known.matches(st):
        return known.sha256
    return sha256_file(path)


def read(path: Path, folder: FolderConfig, config: Config, ledger: Ledger,
         probe: Prober = probe_here) -> tuple[FilePlan, os.stat_result]:
    """Hash and plan the file (nothing written). Raises OSError."""
    st = os.stat(path)
    sha = hash_if_changed(path, st, ledger)
    return plan_file(path, folder, sha256=sha, with_sha_tag=config.uploads.video_sha_tag, info=probe(path)), st


def record_path_and_row(path: Path, plan: FilePlan, st: os.stat_result, folder: FolderConfig, ledger: Ledger,
                        target: Optional[str] = None, skipped: Optional[str] = None) -> FileRecord:
    """Write the path and, for new content, its row (`ready`, or `rejected` with the reason:
    the target's refusal, or why the folder skips it), in one write."""
    assert plan.sha256 is not None
    sha = plan.sha256
    verdict = plan.targets[target].verdict if target else plan.chosen
    refused = skipped or (None if verdict.accepted else verdict.reason)
    record = ledger.register(path, st, str(folder.path), sha, verdict.target, folder.unique_id,
                             refused=refused, media_type=plan.info.family,
                             metadata=metadata_record(plan), capture_time=plan.capture.local.isoformat())
    if record.state == State.DISCOVERED:  # a row from before registration was one write
        record = (ledger.transition(record.id, State.READY) if verdict.accepted else
                  ledger.transition(record.id, State.REJECTED, last_error=verdict.reason))
    return record


def upload_path(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, client: Client, *,
                target: Optional[str] = None, progress: Optional[Progress] = None,
                clock: Callable[[], float] = time.time, unattended: bool = False,
                probe: Prober = probe_here, is_outage: IsOutage = unreachable,
                staging: Optional[Staging] = None) -> Outcome:
    """Upload one file unless the ledger says its content is already there, and record what
    happened. `unattended` (the daemon): a file waiting for its next attempt waits, and
    rejected or failed content is not tried again here (that is `mavi-sync retry`, or the
    cool-down). `probe` is where the file is read (the daemon's is a helper process).
    Raises AccountError after recording it (the caller pauses everything)."""
    staging = staging or Staging.beside(ledger.path, int(config.uploads.staging_max_mb * 1e6), convert_here)
    attempt = try_upload(path, folder, config, ledger, client, target=target, progress=progress, clock=clock,
                         unattended=unattended, probe=probe, is_outage=is_outage, staging=staging)
    outcome = apply(ledger, attempt, rules_of(config), clock())
    if outcome.kind is Kind.ACCOUNT:
        assert isinstance(outcome.error, AccountError)
        raise outcome.error
    return outcome


def apply(ledger: Ledger, attempt: Attempt, rules: RetryRules, now: float) -> Outcome:
    """Write the decision for `attempt` (one ledger write, or none) and return the outcome."""
    record = attempt.record
    change = decide(attempt, rules, now)
    if change is not None and record is not None:
        record = ledger.transition(record.id, change.state, **change.fields)
    state = record.state if record is not None else _no_row_state(attempt.kind)
    return Outcome(attempt.kind, attempt.path, state, record, attempt.detail, attempt.result, attempt.error,
                   attempt.outage)


def _no_row_state(kind: Kind) -> State:
    return State.VANISHED if kind is Kind.VANISHED else State.FAILED


def try_upload(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, client: Client, *,
               target: Optional[str], progress: Optional[Progress], clock: Callable[[], float],
               unattended: bool, probe: Prober, is_outage: IsOutage, staging: Staging) -> Attempt:
    """Register, claim and send; what happened, not yet decided upon."""
    ready = prepare(path, folder, config, ledger, target=target, progress=progress, clock=clock,
                    unattended=unattended, probe=probe, is_outage=is_outage, staging=staging)
    return ready if isinstance(ready, Attempt) else send(ready, client, ledger, staging)


def prepare(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, *,
            target: Optional[str], progress: Optional[Progress], clock: Callable[[], float],
            unattended: bool, probe: Prober, is_outage: IsOutage, staging: Staging,
            sending: Optional[Sending] = None) -> "Ready | Attempt":
    """Register and claim the file and make what is sent (staged, if converted): Ready to
    send, or the Attempt that ends here (known, refused, waiting, unfinished…). `sending`
    is told when its request starts (+1) and ends (-1)."""
    try:
        plan, st = read(path, folder, config, ledger, probe)
    except FileNotFoundError:
        ledger.forget_path(path)  # and its content's row, if nothing else holds it and it was never sent
        return Attempt(Kind.VANISHED, path, None, "the file disappeared before it was read")
    except OSError as exc:
        return Attempt(Kind.UNREADABLE, path, None, f"cannot read: {exc.strerror}")
    if unattended and looks_unfinished(plan.info.refusal, last_change_s(signature(st)), clock(),
                                       folder.incomplete_grace_s):
        return Attempt(Kind.UNFINISHED, path, None, plan.info.refusal or "")  # no row: it may never be a file
    skipped = None
    if unattended and (pair := live_photo(plan, probe)) is not None:  # by hand, a person's choice counts
        skipped = skipped_half(folder.live_photos, pair, path)
        if skipped is None and folder.live_photos == "both":
            plan = with_pair_tag(plan, pair, config.uploads.video_sha_tag)
    elif unattended and folder.live_photos == "both" and plan.info.motion_size:  # its clip: prepare_clip
        plan = with_pair_tag(plan, Pair(path, path), config.uploads.video_sha_tag)
    record = record_path_and_row(path, plan, st, folder, ledger, target, skipped)
    if unattended and folder.live_photos == "both" and (clip := _clip_plan(plan, config)) is not None:
        _companion(ledger, record, clip)  # before the still can be confirmed: the file waits for both
    if skipped is not None and record.state not in DONE_STATES:
        return Attempt(Kind.SKIPPED, path, record, skipped)
    return _claim_and_stage(path, plan, st, folder, record, ledger, progress=progress, clock=clock,
                            unattended=unattended, is_outage=is_outage, staging=staging, sending=sending)


def prepare_clip(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, primary: FileRecord, *,
                 clock: Callable[[], float], probe: Prober, is_outage: IsOutage,
                 staging: Staging, sending: Optional[Sending] = None) -> "Ready | Attempt | None":
    """An Android motion photo under live_photos = "both": its clip's own upload, a second row
    made from the same file (`Ledger.companion`), tagged like the still. None when the file is
    not one, or no video endpoint takes its clip (the still went alone)."""
    try:
        plan, st = read(path, folder, config, ledger, probe)
    except OSError:
        return None  # the still's attempt said what happened to the file
    clip = _clip_plan(plan, config)
    if clip is None:
        return None
    record = _companion(ledger, primary, clip)
    return _claim_and_stage(path, clip, st, folder, record, ledger, progress=None, clock=clock, unattended=True,
                            is_outage=is_outage, staging=staging, sending=sending)


def _clip_plan(plan: FilePlan, config: Config) -> Optional[FilePlan]:
    """What a motion photo's clip is sent as (live_photos = "video" for it, the still's pair
    tag), or None when the file has no clip or no video endpoint takes it."""
    if not plan.info.motion_size or plan.sha256 is None:
        return None
    pair = Pair(plan.path, plan.path)
    clip = plan_file(plan.path, dataclasses.replace(plan.folder, live_photos="video"), sha256=plan.sha256,
                     with_sha_tag=config.uploads.video_sha_tag, info=plan.info)
    if pair.tag not in clip.folder.tags:  # (the still's plan may carry it already)
        clip = with_pair_tag(clip, pair, config.uploads.video_sha_tag)
    return clip if clip.chosen.accepted and clip.chosen.convert == "clip" else None


def _companion(ledger: Ledger, primary: FileRecord, clip: FilePlan) -> FileRecord:
    assert clip.sha256 is not None and clip.info.motion_size is not None
    return ledger.companion(primary.id, clip.sha256, clip.chosen.target, clip.folder.unique_id,
                            clip.info.motion_size, media_type="video", metadata=metadata_record(clip),
                            capture_time=clip.capture.local.isoformat())


def _claim_and_stage(path: Path, plan: FilePlan, st: os.stat_result, folder: FolderConfig, record: FileRecord,
                     ledger: Ledger, *, progress: Optional[Progress], clock: Callable[[], float], unattended: bool,
                     is_outage: IsOutage, staging: Staging, sending: Optional[Sending] = None) -> "Ready | Attempt":
    """The row as registered: known, refused or waiting, else claimed and made ready to send."""
    if record.state in DONE_STATES:
        return Attempt(Kind.KNOWN, path, record, f"already uploaded ({record.remote_id})")
    verdict = plan.targets[record.target].verdict
    if not verdict.accepted:  # rejected before, or put back by `retry` and still refused by the rules
        return Attempt(Kind.REFUSED, path, record, verdict.reason or record.last_error or "refused")
    if unattended and _not_now(record, clock()):
        return Attempt(Kind.WAITING, path, record, record.last_error or "waiting for its next attempt")
    try:  # the claim: only one worker or process moves this row on from what it read
        record = ledger.claim(record.id, expect=(record.state, record.attempts))
    except ClaimLost:
        return Attempt(Kind.CLAIM_LOST, path, ledger.get_by_id(record.id) or record, "taken by another worker")
    staged: Optional[Converted] = None
    try:
        if verdict.convert is not None:
            staged = _staged(verdict.convert, path, plan, st, folder, staging)
        send_st = os.stat(staged.path) if staged else st
        job = job_for(plan, send_st, target=record.target, maybe_sent=record.maybe_sent,
                      send=Path(staged.path) if staged else None)
    except BaseException as exc:
        if staged is not None:
            staging.release(staged)
        return unsent(exc, path, record, ledger, verdict.convert, is_outage)
    return Ready(path, record, job, Started(ledger, record.id, progress, sending), staged, is_outage)


def _staged(convert: str, path: Path, plan: FilePlan, st: os.stat_result, folder: FolderConfig,
            staging: Staging) -> Converted:
    """What is sent, made from the file in the staging area: a photo's JPEG, a camera clip's
    MP4; FileChanged when the original moved meanwhile (it would be a version nobody keeps)."""
    assert plan.sha256 is not None
    if convert == "jpeg":
        staged = staging.to_jpeg(path, plan.sha256, folder.jpeg_quality, LIMITS["image"].max_bytes)
    elif convert == "clip":
        assert plan.info.motion_offset is not None and plan.info.motion_size is not None
        staged = staging.clip(path, plan.sha256, plan.info.motion_offset, plan.info.motion_size)
    else:
        when = plan.capture.instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        make = staging.to_h264 if convert == "h264" else staging.to_mp4
        staged = make(path, plan.sha256, st.st_size, when)
    now = os.stat(path)
    if (now.st_size, now.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
        staging.release(staged)
        raise FileChanged(f"{path} changed while being converted")
    return staged


def _not_now(record: FileRecord, now: float) -> bool:
    if record.state in (State.REJECTED, State.FAILED):
        return True
    return record.state == State.READY and record.next_attempt_at is not None and record.next_attempt_at > now
