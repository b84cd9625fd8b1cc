"""Each file's log lines (events.Story): one per decision, and a file that waits is told
when it starts waiting and when it is decided, never once per round. The outcomes are
made by the real decision (outcome.decide) from the attempts the uploader builds."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Optional

from mavi_sync.api.model import UploadResult
from mavi_sync.errors import (AmbiguousRefusal, FileChanged, Held, Interrupted, PermanentError, StagingFull,
                              TransientError, Unreachable)
from mavi_sync.pipeline.events import Story
from mavi_sync.ledger.records import FileRecord
from mavi_sync.pipeline.outcome import Attempt, Kind, RetryRules, decide
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.uploader import Outcome

RULES = RetryRules(max_attempts=3, retry_initial_s=10, retry_max_s=100, failed_cooldown_s=600)
PATH = Path("/cam/clip.mp4")


@contextmanager
def lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines logged inside the block, at the default level."""
    from mavi_sync.logs import configure
    stream, told = io.StringIO(), []
    configure("info", json=True, stream=stream)
    try:
        yield told
    finally:
        configure("warning", stream=io.StringIO())
        told += [json.loads(line) for line in stream.getvalue().splitlines()]


def row(state: State = State.READY, attempts: int = 1, **changes: object) -> FileRecord:
    base = FileRecord(id=1, sha256="a" * 64, target="video", namespace="default", size=10, state=state,
                      media_type="video", metadata=None, capture_time=None, remote_id=None, remote_status=None,
                      attempts=attempts, next_attempt_at=None, last_error=None, created_at=0.0, updated_at=0.0)
    return replace(base, **changes)  # type: ignore[arg-type]


def outcome(kind: Kind, record: Optional[FileRecord] = None, error: Optional[Exception] = None, *,
            outage: bool = False, now: float = 0.0, result: Optional[UploadResult] = None,
            path: Path = PATH) -> Outcome:
    """What the uploader's `apply` returns: the attempt, decided, and the row as it left it."""
    attempt = Attempt(kind, path, record, str(error or ""), result, error, outage)
    change = decide(attempt, RULES, now)
    if change is not None and record is not None:
        record = replace(record, state=change.state, **change.fields)  # type: ignore[arg-type]
    state = record.state if record is not None else (State.VANISHED if kind is Kind.VANISHED else State.FAILED)
    return Outcome(kind, path, state, record, attempt.detail, result, error, outage)


def test_a_file_refused_after_its_last_attempt_gets_a_line_of_its_own() -> None:
    """The ambiguous answer ("too fast, or invalid") on every attempt: the last one is a
    refusal, logged as one, with the decision's reason (it was logged as a retry before)."""
    story, limit = Story(), AmbiguousRefusal("asset upload: HTTP 400 Request has exceeded the limit.")
    with lines() as told:
        for attempt in (1, 2, 3):
            story.attempt(outcome(Kind.ATTEMPT_FAILED, row(attempts=attempt, next_attempt_at=5.0), limit, now=10.0),
                          0.1, 10.0)
    assert [(t["event"], t["attempt"]) for t in told] == [("upload_retrying", 1), ("upload_retrying", 2),
                                                           ("media_rejected", 3)]
    assert "the same answer on all 3 attempts" in told[-1]["reason"] and told[-1]["path"] == str(PATH)


def test_every_decision_is_one_line_with_the_fixed_keys() -> None:
    story = Story()
    sent = UploadResult("video", "VI1", "UNPARSE", final=False)
    cases = [
        (outcome(Kind.SENT, row(State.UPLOADING), result=sent), "upload_succeeded"),
        (outcome(Kind.REFUSED, row(), PermanentError("0400 invalid")), "media_rejected"),
        (outcome(Kind.ATTEMPT_FAILED, row(attempts=1), TransientError("HTTP 503")), "upload_retrying"),
        (outcome(Kind.ATTEMPT_FAILED, row(attempts=3), TransientError("HTTP 503")), "upload_failed"),
        (outcome(Kind.CRASHED, row(attempts=3), ValueError("bug")), "upload_failed"),
        (outcome(Kind.SKIPPED, row()), "file_skipped"),
        (outcome(Kind.VANISHED), "file_vanished"),
    ]
    for i, (o, event) in enumerate(cases):
        with lines() as told:
            story.attempt(replace(o, path=Path(f"/cam/{i}.mp4")), 0.1, 0.0)
        assert [t["event"] for t in told] == [event], (o.kind, o.error, told)
        assert told[0]["path"] == f"/cam/{i}.mp4"
    with lines() as told:  # no line: not its turn, another worker has it, the account (said once for all)
        for kind in (Kind.WAITING, Kind.CLAIM_LOST, Kind.ACCOUNT, Kind.KNOWN):
            story.attempt(outcome(kind, row()), 0.1, 0.0)
    assert told == []


def test_a_waiting_file_is_told_once_when_it_starts_and_once_when_decided() -> None:
    """Whatever holds it (its writer, a window, a stop, room to convert, an outage), the
    rounds in between are silent; the decision says how long it waited."""
    waits = [
        outcome(Kind.UNFINISHED, None, path=PATH),
        outcome(Kind.ATTEMPT_FAILED, row(), Held("upload window closed")),
        outcome(Kind.ATTEMPT_FAILED, row(), Interrupted("stopping")),
        outcome(Kind.ATTEMPT_FAILED, row(), FileChanged("changed while sent")),
        outcome(Kind.ATTEMPT_FAILED, row(), StagingFull("no room")),
        outcome(Kind.ATTEMPT_FAILED, row(), Unreachable("connection refused"), outage=True),
    ]
    for wait in waits:
        story = Story()
        with lines() as told:
            for tick in range(20):
                story.attempt(wait, 0.1, 100.0 + tick)
            story.attempt(outcome(Kind.REFUSED, row(), PermanentError("refused")), 0.1, 160.0)
        assert [t["event"] for t in told][1:] == ["media_rejected"], (wait.error, told)
        assert len(told) == 2 and told[1]["waited_s"] == 60.0, told


def test_a_new_reason_to_wait_is_news_and_the_wait_keeps_its_start() -> None:
    story = Story()
    with lines() as told:
        story.attempt(outcome(Kind.UNFINISHED, None), 0.1, 100.0)
        story.attempt(outcome(Kind.UNFINISHED, None), 0.1, 110.0)
        story.attempt(outcome(Kind.ATTEMPT_FAILED, row(), Held("paused by hand")), 0.1, 120.0)
        story.attempt(outcome(Kind.ATTEMPT_FAILED, row(), Held("paused by hand")), 0.1, 130.0)
        story.attempt(outcome(Kind.KNOWN, row(State.CONFIRMED)), 0.1, 140.0)  # a copy of what was sent
    assert [t["event"] for t in told] == ["file_unfinished", "upload_held", "file_known"]
    assert told[-1]["waited_s"] == 40.0


def test_the_oldest_waiting_file_is_named_and_one_decided_or_gone_is_not() -> None:
    now = [1000.0]
    story = Story(clock=lambda: now[0])
    for i, at in enumerate((100.0, 50.0, 300.0)):
        story.attempt(outcome(Kind.UNFINISHED, None, path=Path(f"/cam/{i}.mp4")), 0.1, at)
    oldest = story.oldest(lambda p: True)
    assert oldest is not None and (oldest.path, oldest.since, oldest.why) == ("/cam/1.mp4", 50.0, "unfinished")
    with lines() as told:
        story.gone(Path("/cam/1.mp4"))  # deleted while it settled: that decides it
        story.gone(Path("/cam/9.mp4"))  # never waited: nothing to say
    assert [(t["event"], t["path"], t["waited_s"]) for t in told] == [("file_vanished", "/cam/1.mp4", 950.0)]
    story.attempt(outcome(Kind.REFUSED, row(), PermanentError("refused"), path=Path("/cam/0.mp4")), 0.1, 400.0)
    assert story.oldest(lambda p: True).path == "/cam/2.mp4"  # type: ignore[union-attr]
    assert story.oldest(lambda p: p.name != "2.mp4") is None  # its folder left the config: forgotten
    assert story.oldest(lambda p: True) is None
