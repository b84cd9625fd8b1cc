"""What an upload attempt or a status poll produced, and the one ledger change it calls for.

Pure: no I/O, no clock of its own. The uploader and the follower build an `Attempt` or
read a `RemoteStatus`; `decide` / `decide_status` / `decide_poll_error` return the
`Change`; the caller applies it in one ledger write. Every "what now?" after an upload is
answered here and nowhere else, so two places can no longer ask for contradicting moves
(a remote FAILED used to be written as `failed`, then refused as `failed → failed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Mapping, Optional

from mavi_sync.api.follow import PollPolicy, next_poll_s
from mavi_sync.api.model import DONE, FAILED, RemoteStatus, UploadResult
from mavi_sync.api.retry import backoff_s
from mavi_sync.errors import (AccountError, AmbiguousRefusal, FileChanged, Held, Interrupted, PermanentError,
                              RateLimited, StagingFull)
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.states import State


class Kind(str, Enum):
    """What one attempt at one path came to."""

    SENT = "sent"  # the server took it now, or an earlier upload of it was found (adopted)
    KNOWN = "known"  # the ledger already has this content uploaded: nothing sent
    WAITING = "waiting"  # not its turn: a later attempt time, or rejected/failed until asked again
    REFUSED = "refused"  # refused for good: by mavi-sync's checks, or by the server
    ATTEMPT_FAILED = "attempt_failed"  # network, 5xx, rate limit, the file changed while sent
    CRASHED = "crashed"  # an error nobody foresaw (a bug): tried again like a failed attempt
    ACCOUNT = "account"  # the account cannot upload: every upload pauses
    CLAIM_LOST = "claim_lost"  # another worker or process is uploading it
    UNFINISHED = "unfinished"  # cannot be read as media yet and changed recently: settles again
    SKIPPED = "skipped"  # not sent by the folder's choice (the other half of a Live Photo)
    VANISHED = "vanished"  # gone before it could be read
    UNREADABLE = "unreadable"  # there, but cannot be read: no content, no row


@dataclass(frozen=True)
class Attempt:
    """One attempt, as it happened. `record` is the row as the attempt left it before the
    decision (attempts already counted for a claimed row)."""

    kind: Kind
    path: Path
    record: Optional[FileRecord]
    detail: str = ""  # the reason or error, as a person reads it
    result: Optional[UploadResult] = None  # SENT
    error: Optional[Exception] = None  # what went wrong, typed
    outage: bool = False  # the error is part of an API outage: the file is not to blame
    body_left: bool = False  # this attempt's upload body started leaving (any lookup due had answered)
    sent_sha256: Optional[str] = None  # the bytes sent, when they were made from the file (a JPEG)


@dataclass(frozen=True)
class Change:
    """A ledger write: move the row to `state` and set `fields`."""

    state: State
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryRules:
    """The per-file retry settings ([uploads]) the decisions need."""

    max_attempts: int = 8
    retry_initial_s: float = 10.0
    retry_max_s: float = 3600.0
    failed_cooldown_s: float = 86400.0  # 0: a failed file waits for `mavi-sync retry`
    poll: PollPolicy = PollPolicy()

    def cooldown_at(self, now: float) -> Optional[float]:
        return now + self.failed_cooldown_s if self.failed_cooldown_s else None


def looks_unfinished(refusal: Optional[str], last_change: float, now: float, grace_s: float) -> bool:
    """A file the prober cannot read as the media it claims to be (no `moov`, a JPEG cut
    short, a preallocation's zeros, empty) that changed less than `grace_s` ago: its writer
    may only be pausing, so it is not refused yet. Refusals by the targets' rules (format,
    codec, size) are about a finished file and never wait."""
    return refusal is not None and now - last_change < grace_s


def decide(attempt: Attempt, rules: RetryRules, now: float) -> Optional[Change]:
    """The ledger change an attempt calls for, or None when it changes nothing."""
    r = attempt.record
    if r is None:
        return None
    if attempt.kind is Kind.SENT:
        assert attempt.result is not None
        change = _sent(attempt.result, rules, now)
        return Change(change.state, {**change.fields, "sent_sha256": attempt.sent_sha256})
    change = _unsent(attempt, r, rules, now)
    if change is not None and _not_held(attempt):
        return Change(change.state, {**change.fields, "lookup_due": 0})
    return change


def _unsent(attempt: Attempt, r: FileRecord, rules: RetryRules, now: float) -> Optional[Change]:
    if attempt.kind is Kind.REFUSED and attempt.error is not None:  # by the server, or unconvertible
        return Change(State.REJECTED, {"last_error": attempt.detail})
    if attempt.kind is Kind.REFUSED and r.state is not State.REJECTED:  # put back by `retry`, refused again
        return Change(State.REJECTED, {"last_error": attempt.detail})
    if attempt.kind is Kind.SKIPPED and r.state is not State.REJECTED:  # a row from before it was paired
        return Change(State.REJECTED, {"last_error": attempt.detail})
    if attempt.kind is Kind.ACCOUNT:  # nobody's file at fault: the attempt is given back
        return Change(State.READY, {"attempts": max(0, r.attempts - 1), "last_error": attempt.detail})
    if attempt.kind in (Kind.ATTEMPT_FAILED, Kind.CRASHED):
        return _failed(attempt, r, rules, now)
    return None


def _not_held(attempt: Attempt) -> bool:
    """The server certainly holds no upload of this content: this attempt's own body left
    (so any lookup that was due had answered "not there" first) and the answer was a
    refusal (account, validation, rate limit) or the body was cut short (the file changed, or
    a hold stopped it).
    A 5xx or a lost answer after the body may mean it was stored: the lookup stays due."""
    return attempt.body_left and isinstance(attempt.error, (AccountError, PermanentError, RateLimited,
                                                             FileChanged, Held))


def _sent(result: UploadResult, rules: RetryRules, now: float) -> Change:
    """`confirmed` when the server's answer is final (image ids, sync security results),
    else `uploaded`, first polled after the policy's initial wait. The server holds it:
    no lookup is due any more."""
    fields: dict[str, Any] = {"remote_id": result.remote_id, "remote_status": result.remote_status,
                              "result": dict(result.details) or None, "uploaded_at": now,
                              "next_attempt_at": None, "lookup_due": 0}
    if result.final:
        return Change(State.CONFIRMED, fields)
    return Change(State.UPLOADED, {**fields, "next_poll_at": now + rules.poll.initial_s})


def _failed(attempt: Attempt, r: FileRecord, rules: RetryRules, now: float) -> Change:
    """Try again later with a growing wait; `failed` once attempts run out. A file that
    changed while sent, an attempt a stop cut short before it left, or one lost to an
    outage gets its attempt back."""
    error = attempt.detail
    if isinstance(attempt.error, StagingFull):  # not the file's fault: its attempt back, a wait for room
        return Change(State.READY, {"attempts": max(0, r.attempts - 1), "last_error": error,
                                    "next_attempt_at": now + backoff_s(1, rules.retry_initial_s, rules.retry_max_s)})
    if isinstance(attempt.error, (FileChanged, Interrupted)):  # nobody's fault, and no reason to wait
        return Change(State.READY, {"attempts": max(0, r.attempts - 1), "last_error": error,
                                    "next_attempt_at": None})
    wait = backoff_s(r.attempts, rules.retry_initial_s, rules.retry_max_s)
    if attempt.outage:
        return Change(State.READY, {"attempts": max(0, r.attempts - 1), "last_error": error,
                                    "next_attempt_at": now + wait})
    if r.attempts >= rules.max_attempts and isinstance(attempt.error, AmbiguousRefusal):
        return Change(State.REJECTED, {"last_error": (
            f"{error}: the same answer on all {r.attempts} attempts, spread over the retry back-off. The "
            "server gives it for rate limits and for requests it refuses; after that long it is taken as a "
            "refusal (`mavi-sync retry PATH` tries again)")})
    if r.attempts >= rules.max_attempts:
        return Change(State.FAILED, {"last_error": error, "next_attempt_at": rules.cooldown_at(now)})
    return Change(State.READY, {"last_error": error, "next_attempt_at": now + wait})


def decide_status(record: FileRecord, status: RemoteStatus, rules: RetryRules, now: float) -> Change:
    """What a status answer means for an uploaded file: DONE confirms it; FAILED fails it,
    to be tried again after the cool-down; anything else is polled again later, and flagged
    once the give-up time has passed since the upload."""
    polls = record.polls + 1
    if status.state == DONE:
        return Change(State.CONFIRMED, {"remote_status": status.raw, "polls": polls})
    if status.state == FAILED:
        return Change(State.FAILED, {
            "remote_status": status.raw, "polls": polls, "next_attempt_at": rules.cooldown_at(now),
            "last_error": f"memories.ai could not process it: {status.raw} ({status.cause})"})
    raw = status.raw or "not visible yet"
    policy = rules.poll
    overdue = record.uploaded_at is not None and now - record.uploaded_at > policy.give_up_s
    return Change(State.UPLOADED, {
        "remote_status": raw, "polls": polls, "next_poll_at": now + next_poll_s(polls, policy),
        "last_error": still_pending(raw, policy) if overdue else record.last_error})


def decide_poll_error(record: FileRecord, error: Exception, rules: RetryRules, now: float) -> Change:
    """A status question that got no usable answer: ask again after a growing wait."""
    wait = backoff_s(record.polls + 1, rules.poll.initial_s, rules.poll.max_s)
    return Change(State.UPLOADED, {"next_poll_at": now + wait, "last_error": str(error)})


def decide_retry(record: FileRecord) -> Optional[Change]:
    """A retry asked for by hand (`mavi-sync retry`, the web page): a failed or refused file is
    ready again with its attempts and error forgotten; None for any other (nothing to retry)."""
    if record.state not in (State.FAILED, State.REJECTED):
        return None
    return Change(State.READY, {"attempts": 0, "next_attempt_at": None, "last_error": None})


def still_pending(raw: Optional[str], policy: PollPolicy) -> str:
    """The flag on a file the server has not finished with after the give-up time."""
    return f"remote status still {raw} after {policy.give_up_s:g} s"
