"""The status follower against the emulator (real HTTP) and a real ledger: the one loop
the daemon and `mavi-sync upload` share."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from mavi_sync.api.follow import PollPolicy
from mavi_sync.errors import AccountError
from mavi_sync.pipeline.follower import Follower
from mavi_sync.ledger.records import FileRecord
from mavi_sync.pipeline.outcome import RetryRules
from mavi_sync.ledger.states import State
from tests.pipeline.test_uploader import Rig, video

RULES = RetryRules(failed_cooldown_s=600, poll=PollPolicy(initial_s=0.05, max_s=0.1, give_up_s=15))


@pytest.fixture
def rig(emulator, tmp_path: Path) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    r = Rig(emulator.url, tmp_path)
    yield r
    r.close()


def follower(rig: Rig, rules: RetryRules = RULES, **kw) -> Follower:  # type: ignore[no-untyped-def]
    return Follower(rig.ledger, rig.client, rules, clock=time.time, stop=rig.client.stop, **kw)


def sent(rig: Rig, name: str = "a.mp4", seconds: float = 1.0) -> FileRecord:
    outcome = rig.upload(video(rig, name, seconds))
    assert outcome.state is State.UPLOADED and outcome.record is not None
    return outcome.record


def test_follow_polls_until_confirmed_and_tells_who_asked(rig: Rig, admin) -> None:
    confirmed: list[int] = []
    record = follower(rig, on_confirmed=lambda r: confirmed.append(r.id)).follow(sent(rig))
    assert record.state is State.CONFIRMED and record.polls >= 2  # UNPARSE first (parse delay), then PARSE
    assert confirmed == [record.id]


def test_a_remote_failure_is_failed_with_its_retry_time_in_one_write(rig: Rig, admin) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "fail"})
    record = follower(rig).follow(sent(rig))
    assert record.state is State.FAILED and "emulated processing failure" in (record.last_error or "")
    assert record.next_attempt_at is not None and record.next_attempt_at > time.time() + 500


def test_follow_due_polls_only_what_is_due_and_nothing_while_paused(rig: Rig, admin) -> None:
    first, second = sent(rig, "a.mp4"), sent(rig, "b.mp4", seconds=1.5)  # two contents
    rig.ledger.transition(first.id, State.UPLOADED, next_poll_at=time.time() - 1)
    rig.ledger.transition(second.id, State.UPLOADED, next_poll_at=time.time() + 3600)
    paused = [True]
    f = follower(rig, paused=lambda: paused[0])
    before = admin.stats()["total_requests"]
    f.follow_due()
    assert admin.stats()["total_requests"] == before  # paused: no question asked
    paused[0] = False
    assert f.follow_due() == 1  # only the first was due
    assert (rig.ledger.get_by_id(first.id) or first).polls == 1
    assert (rig.ledger.get_by_id(second.id) or second).polls == 0


def test_an_account_error_goes_to_the_callback_or_is_raised(rig: Rig, admin) -> None:
    record = sent(rig)
    admin.faults(bad_key=True)
    told: list[str] = []
    assert follower(rig, on_account_error=lambda exc: told.append(exc.reason)).poll(record).polls == 0
    assert told == ["bad_key"]
    with pytest.raises(AccountError):  # `mavi-sync upload` says so and stops
        follower(rig).follow(record)


def test_following_gives_up_after_the_give_up_time_flagged(rig: Rig, admin) -> None:
    quick = RetryRules(poll=PollPolicy(initial_s=0.01, max_s=0.01, give_up_s=0.05))
    record = follower(rig, quick).follow(sent(rig))
    assert record.state is State.UPLOADED and record.last_error == "remote status still UNPARSE after 0.05 s"


def test_a_stop_request_ends_following_at_once(rig: Rig, admin) -> None:
    record = sent(rig)
    stop = threading.Event()
    slow = RetryRules(poll=PollPolicy(initial_s=3600, max_s=3600, give_up_s=86400))
    f = Follower(rig.ledger, rig.client, slow, clock=time.time, stop=stop)
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert f.follow(record).state is State.UPLOADED
    assert time.monotonic() - started < 10
