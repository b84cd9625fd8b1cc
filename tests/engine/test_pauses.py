"""The pauses' owner against the emulator, a real ledger and a clock of the test's: which
trial each pause gets, and what the account check may end (issue 23)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import AccountError, Unreachable
from mavi_sync.ledger.store import Ledger
from mavi_sync.engine.pause import OUTAGE_PROBE_S
from mavi_sync.engine.pauses import CHECK_AFTER_S, Pauses
from tests.conftest import API_KEY, SECURITY_KEY, api_table, fast_uploads

LIST = "/serve/api/v1/list_videos"
PROBE_S = 60.0


@pytest.fixture
def rig(emulator, tmp_path: Path) -> Iterator[tuple[Pauses, list[float], list[str]]]:  # type: ignore[no-untyped-def]
    config = build_config({"api": api_table(emulator.url), "uploads": fast_uploads(),
                           "folders": [{"path": str(tmp_path)}]})
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    now = [1000.0]
    filled: list[str] = []
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        pauses = Pauses(ledger, client, clock=lambda: now[0], account_probe_s=lambda: PROBE_S)
        pauses.fill = lambda: filled.append("due rows queued")
        yield pauses, now, filled
    client.close()


def to_the_check(pauses: Pauses, now: list[float], since: float) -> None:
    """The scheduler's ticks: the trial opens, nobody's request decides it, the check goes."""
    now[0] = since + PROBE_S
    pauses.tick()
    now[0] += CHECK_AFTER_S
    pauses.tick()


def refused(reason: str, key: str = "API key") -> AccountError:
    error = AccountError(f"upload refused ({reason})", reason=reason)
    error.key = key
    return error


def test_a_bad_key_ends_at_the_trial_when_the_check_passes(rig, admin) -> None:  # type: ignore[no-untyped-def]
    pauses, now, filled = rig
    pauses.queued = lambda: 1  # a file to try with: it has the first second
    pauses.account_failed(refused("bad_key"))
    now[0] = 1000.0 + PROBE_S
    pauses.tick()
    assert filled == ["due rows queued"] and pauses.paused and admin.stats()["requests"].get(LIST) is None
    now[0] += CHECK_AFTER_S
    pauses.tick()  # its file asked nothing (or is slow): the check
    assert not pauses.paused and admin.stats()["requests"].get(LIST) == 1
    assert pauses.ledger.daemon().get("paused") is None


def test_with_nothing_queued_the_check_goes_with_the_trial(rig, admin) -> None:  # type: ignore[no-untyped-def]
    pauses, now, _filled = rig
    pauses.account_failed(refused("disabled"))
    now[0] = 1000.0 + PROBE_S
    pauses.tick()
    assert not pauses.paused and admin.stats()["requests"].get(LIST) == 1


def test_a_key_still_refused_keeps_the_pause_and_asks_once_per_trial(rig, admin) -> None:  # type: ignore[no-untyped-def]
    pauses, now, _filled = rig
    admin.faults(bad_key=True)
    pauses.account_failed(refused("bad_key"))
    to_the_check(pauses, now, 1000.0)
    for _ in range(5):  # more ticks before the next probe: no more questions
        now[0] += 1
        pauses.tick()
    assert pauses.pause.current() is not None and pauses.pause.reason == "bad_key"
    assert admin.stats()["requests"].get(LIST) == 1


def test_what_the_check_cannot_see_waits_for_an_upload(rig, admin) -> None:  # type: ignore[no-untyped-def]
    """No credits (only uploads cost them), and a refused security key (the check carries
    the API key; the security host has nothing cheap to ask)."""
    pauses, now, _filled = rig
    admin.faults(no_credits=True)
    pauses.account_failed(refused("no_credits"))
    to_the_check(pauses, now, 1000.0)
    assert pauses.pause.reason == "no_credits" and pauses.paused
    pauses.answered()  # an upload went through
    assert not pauses.paused
    pauses.account_failed(refused("bad_key", key="security API key"))
    to_the_check(pauses, now, now[0])
    assert pauses.pause.reason == "bad_key" and pauses.paused
    assert admin.stats()["requests"].get(LIST) == 2


def test_an_outage_ends_when_the_check_is_answered_and_doubles_its_wait_when_not(rig, emulator,
                                                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    pauses, now, _filled = rig
    assert pauses.outage.failed(Unreachable("refused"), now[0])
    pauses.unreachable("cannot reach the API")
    emulator.stop()  # the API is gone
    now[0] = 1000.0 + OUTAGE_PROBE_S
    pauses.tick()
    now[0] += CHECK_AFTER_S
    pauses.tick()  # the check: no answer
    assert pauses.pause.reason == "outage" and pauses.pause.probe_s == 2 * OUTAGE_PROBE_S
    with EmulatorServer(tmp_path / "again", Settings(api_key=API_KEY, security_key=SECURITY_KEY),
                        port=emulator.port):  # back
        now[0] += 2 * OUTAGE_PROBE_S
        pauses.tick()
        now[0] += CHECK_AFTER_S
        pauses.tick()
        assert not pauses.paused and pauses.outage.since is None
