"""The decisions after an attempt or a status poll: pure, no I/O. Every change the
decisions return is also one the state machine allows from the row's state."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

import pytest

from mavi_sync.api.follow import PollPolicy
from mavi_sync.api.model import DONE, FAILED, MISSING, PENDING, RemoteStatus, UploadResult
from mavi_sync.errors import (AccountError, FileChanged, Interrupted, PermanentError, RateLimited, TransientError,
                              UnknownOutcome, Unreachable)
from mavi_sync.ledger.records import FileRecord
from mavi_sync.pipeline.outcome import Attempt, Kind, RetryRules, decide, decide_poll_error, decide_status
from mavi_sync.ledger.states import State, allowed

NOW = 1_000_000.0
RULES = RetryRules(max_attempts=3, retry_initial_s=10, retry_max_s=100, failed_cooldown_s=600,
                   poll=PollPolicy(initial_s=5, max_s=50, give_up_s=3600, factor=2))
PATH = Path("/cam/clip.mp4")


def row(state: State = State.READY, attempts: int = 1, **changes: object) -> FileRecord:
    base = FileRecord(id=1, sha256="a" * 64, target="video", namespace="default", size=10, state=state,
                      media_type="video", metadata=None, capture_time=None, remote_id=None, remote_status=None,
                      attempts=attempts, next_attempt_at=None, last_error=None, created_at=0.0, updated_at=0.0)
    return replace(base, **changes)  # type: ignore[arg-type]


def attempt(kind: Kind, record: Optional[FileRecord] = None, error: Optional[Exception] = None,
            result: Optional[UploadResult] = None, outage: bool = False) -> Attempt:
    return Attempt(kind, PATH, record if record is not None else row(), str(error or ""), result, error, outage)


def test_a_video_sent_is_uploaded_and_polled_first_after_the_initial_wait() -> None:
    result = UploadResult("video", "VI1", "UNPARSE", final=False)
    change = decide(attempt(Kind.SENT, row(State.UPLOADING, lookup_due=True), result=result), RULES, NOW)
    assert change is not None and change.state is State.UPLOADED
    assert change.fields["next_poll_at"] == NOW + 5 and change.fields["remote_id"] == "VI1"
    assert change.fields["lookup_due"] == 0 and change.fields["uploaded_at"] == NOW  # the server holds it


def test_a_final_answer_confirms_in_the_same_write() -> None:
    result = UploadResult("image", "7", "DONE", final=True)
    change = decide(attempt(Kind.SENT, row(State.UPLOADING), result=result), RULES, NOW)
    assert change is not None and change.state is State.CONFIRMED and "next_poll_at" not in change.fields


def test_a_server_refusal_rejects_with_its_reason_and_keeps_the_lookup_duty() -> None:
    change = decide(attempt(Kind.REFUSED, row(State.UPLOADING, lookup_due=True),
                            error=PermanentError("too long")), RULES, NOW)
    assert change is not None and change.state is State.REJECTED and change.fields == {"last_error": "too long"}


@pytest.mark.parametrize("kind", [Kind.KNOWN, Kind.WAITING, Kind.CLAIM_LOST])
def test_attempts_that_sent_nothing_change_nothing(kind: Kind) -> None:
    assert decide(attempt(kind), RULES, NOW) is None


def test_a_row_the_rules_refuse_is_rejected_once() -> None:
    """A rejected row refused again changes nothing; one `retry` made ready is rejected again."""
    assert decide(attempt(Kind.REFUSED, row(State.REJECTED)), RULES, NOW) is None
    again = decide(attempt(Kind.REFUSED, row(State.READY)), RULES, NOW)
    assert again is not None and again.state is State.REJECTED


@pytest.mark.parametrize("kind", [Kind.VANISHED, Kind.UNREADABLE])
def test_no_row_no_change(kind: Kind) -> None:
    assert decide(Attempt(kind, PATH, None, "gone"), RULES, NOW) is None


def test_transient_errors_back_off_then_fail_with_the_cool_down() -> None:
    first = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=1), TransientError("503")), RULES, NOW)
    second = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=2), TransientError("503")), RULES, NOW)
    last = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=3), TransientError("503")), RULES, NOW)
    assert first is not None and second is not None and last is not None
    assert first.state is State.READY and second.state is State.READY
    assert NOW < first.fields["next_attempt_at"] < second.fields["next_attempt_at"] <= NOW + 100
    assert last.state is State.FAILED and last.fields["next_attempt_at"] == NOW + 600
    assert "attempts" not in first.fields  # the attempt counts


def test_failed_without_a_cool_down_waits_for_a_person() -> None:
    rules = replace(RULES, failed_cooldown_s=0)
    last = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=3), TransientError("503")), rules, NOW)
    assert last is not None and last.state is State.FAILED and last.fields["next_attempt_at"] is None


def test_an_outage_gives_the_attempt_back_even_the_last_one() -> None:
    change = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=3), Unreachable("refused"), outage=True), RULES, NOW)
    assert change is not None and change.state is State.READY and change.fields["attempts"] == 2
    assert change.fields["next_attempt_at"] > NOW


def test_a_file_changed_while_sent_gets_its_attempt_back_and_no_retry_time() -> None:
    change = decide(attempt(Kind.ATTEMPT_FAILED, row(State.UPLOADING, attempts=2), FileChanged("grew")), RULES, NOW)
    assert change is not None and change.state is State.READY
    assert change.fields["attempts"] == 1 and change.fields["next_attempt_at"] is None


def test_an_account_error_gives_the_attempt_back() -> None:
    error = AccountError("bad key", reason="bad_key")
    change = decide(attempt(Kind.ACCOUNT, row(attempts=1), error), RULES, NOW)
    assert change is not None and change.state is State.READY and change.fields["attempts"] == 0


def test_no_decision_ever_clears_the_lookup_duty_before_the_server_holds_the_file() -> None:
    """The second bug of issue 13: a failed lookup (503, outage, account) moved the row on
    and the next attempt sent the video without looking. Only SENT may clear the duty."""
    maybe = row(State.UPLOADING, lookup_due=True)
    errors = [(Kind.ATTEMPT_FAILED, TransientError("lookup: 503")), (Kind.ATTEMPT_FAILED, UnknownOutcome("?")),
              (Kind.ACCOUNT, AccountError("no", reason="bad_key")), (Kind.REFUSED, PermanentError("no")),
              (Kind.CRASHED, RuntimeError("bug")), (Kind.ATTEMPT_FAILED, FileChanged("grew"))]
    for kind, error in errors:
        for outage in (False, True):
            change = decide(attempt(kind, maybe, error, outage=outage), RULES, NOW)
            assert change is not None and change.fields.get("lookup_due", 1) == 1, (kind, error, change)


@pytest.mark.parametrize("state", [State.READY, State.UPLOADING])
def test_every_attempt_decision_is_a_move_the_state_machine_allows(state: State) -> None:
    result = UploadResult("video", "VI1", "UNPARSE", final=False)
    cases = [attempt(Kind.SENT, row(state), result=result),
             attempt(Kind.SENT, row(state), result=replace(result, final=True)),
             attempt(Kind.REFUSED, row(state), PermanentError("no")),
             attempt(Kind.ACCOUNT, row(state), AccountError("no", reason="bad_key")),
             attempt(Kind.ATTEMPT_FAILED, row(state, attempts=9), TransientError("x")),
             attempt(Kind.ATTEMPT_FAILED, row(state, attempts=1), TransientError("x")),
             attempt(Kind.ATTEMPT_FAILED, row(state, attempts=9), Unreachable("x"), outage=True),
             attempt(Kind.CRASHED, row(state), RuntimeError("x"))]
    for case in cases:
        change = decide(case, RULES, NOW)
        assert change is not None and allowed(state, change.state), (case.kind, change)


def test_a_remote_failure_fails_the_file_with_a_retry_time_in_one_change() -> None:
    """The first bug of issue 13: FAILED was written, then `failed → failed` refused, and
    the retry time was never set. One decision now carries both."""
    uploaded = row(State.UPLOADED, remote_id="VI1", remote_status="UNPARSE", uploaded_at=NOW - 10)
    change = decide_status(uploaded, RemoteStatus(FAILED, "FAILED", "codec"), RULES, NOW)
    assert change.state is State.FAILED and allowed(State.UPLOADED, change.state)
    assert change.fields["next_attempt_at"] == NOW + 600 and "could not process it: FAILED (codec)" in \
        change.fields["last_error"]


def test_done_confirms_and_pending_is_polled_again_later_and_later() -> None:
    uploaded = row(State.UPLOADED, remote_id="VI1", uploaded_at=NOW - 10, polls=0)
    assert decide_status(uploaded, RemoteStatus(DONE, "PARSE"), RULES, NOW).state is State.CONFIRMED
    first = decide_status(uploaded, RemoteStatus(PENDING, "UNPARSE"), RULES, NOW)
    later = decide_status(replace(uploaded, polls=3), RemoteStatus(PENDING, "UNPARSE"), RULES, NOW)
    assert first.state is State.UPLOADED and first.fields["polls"] == 1
    assert NOW < first.fields["next_poll_at"] < later.fields["next_poll_at"] <= NOW + 50
    missing = decide_status(uploaded, RemoteStatus(MISSING, None), RULES, NOW)
    assert missing.fields["remote_status"] == "not visible yet"


def test_a_file_still_pending_after_the_give_up_time_is_flagged_once_past_it() -> None:
    before = row(State.UPLOADED, remote_id="VI1", uploaded_at=NOW - 3599, last_error=None)
    after = replace(before, uploaded_at=NOW - 3601)
    assert decide_status(before, RemoteStatus(PENDING, "UNPARSE"), RULES, NOW).fields["last_error"] is None
    assert decide_status(after, RemoteStatus(PENDING, "UNPARSE"), RULES, NOW).fields["last_error"] == \
        "remote status still UNPARSE after 3600 s"


def test_a_status_question_without_an_answer_is_asked_again_with_backoff() -> None:
    uploaded = row(State.UPLOADED, remote_id="VI1", polls=2)
    change = decide_poll_error(uploaded, TransientError("timeout"), RULES, NOW)
    assert change.state is State.UPLOADED and NOW < change.fields["next_poll_at"] <= NOW + 50
    assert change.fields["last_error"] == "timeout"


def test_an_attempt_a_stop_cut_short_before_it_left_is_given_back_without_a_wait() -> None:
    change = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=3), Interrupted("upload: stopping")), RULES, NOW)
    assert change is not None and change.state is State.READY
    assert change.fields["attempts"] == 2 and change.fields["next_attempt_at"] is None


def test_the_lookup_duty_ends_when_this_attempts_own_body_was_refused_or_cut_short() -> None:
    """The body of this attempt left (so any lookup due had answered "not there" first):
    a refusal or a body cut short means the server holds nothing; a 5xx or a lost answer
    after the body may mean it stored it, so the next attempt still looks first."""
    maybe = row(State.UPLOADING, lookup_due=True)
    cleared = [(Kind.ACCOUNT, AccountError("no", reason="bad_key")), (Kind.REFUSED, PermanentError("too long")),
               (Kind.ATTEMPT_FAILED, RateLimited("0429")), (Kind.ATTEMPT_FAILED, FileChanged("grew"))]
    kept = [(Kind.ATTEMPT_FAILED, TransientError("HTTP 503", status=503)), (Kind.ATTEMPT_FAILED, UnknownOutcome("?")),
            (Kind.CRASHED, RuntimeError("bug"))]
    for kind, error in cleared:
        change = decide(replace(attempt(kind, maybe, error), body_left=True), RULES, NOW)
        assert change is not None and change.fields["lookup_due"] == 0, (kind, error)
    for kind, error in kept:
        change = decide(replace(attempt(kind, maybe, error), body_left=True), RULES, NOW)
        assert change is not None and change.fields.get("lookup_due", 1) == 1, (kind, error)


def test_an_ambiguous_v2_limit_backs_off_like_a_failure_then_is_refused_saying_why() -> None:
    """Issue 16: v2's 400 "Request has exceeded the limit." on a file that passed the checks:
    the per-file back-off across max_attempts, then a refusal whose reason says why."""
    from mavi_sync.errors import AmbiguousRefusal
    limit = AmbiguousRefusal("asset upload of a.mp4: HTTP 400 Request has exceeded the limit.", status=400)
    early = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=1), limit), RULES, NOW)
    assert early is not None and early.state is State.READY and early.fields["next_attempt_at"] > NOW
    last = decide(attempt(Kind.ATTEMPT_FAILED, row(attempts=RULES.max_attempts), limit), RULES, NOW)
    assert last is not None and last.state is State.REJECTED
    assert f"all {RULES.max_attempts} attempts" in last.fields["last_error"] and "rate limits" in last.fields["last_error"]
