"""When the owner is told: once per episode, over ticks, trials and a restart; failures
grouped; the digest at its time; pings healthy or /fail. A real ledger, a real HTTP
receiver for Apprise's json:// posts; the engine's state is handed in as plain values."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from mavi_sync.config import build_config
from mavi_sync.ledger.store import Ledger
from mavi_sync.owner.oversight import Oversight, Watched, next_time
from mavi_sync.ledger.states import State
from tests.e2e.inbox import Inbox
from tests.e2e.rig import until


class Engine:
    """What oversight reads of an engine, set by the test."""

    def __init__(self) -> None:
        self.pause: Optional[tuple[str, str]] = None
        self.outage_since: Optional[float] = None
        self.uploads = 0

    def watched(self) -> Watched:
        return Watched(lambda: self.pause, lambda: self.outage_since, lambda: self.uploads)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox() as box:
        yield box


def config(inbox: Inbox, **notify: Any) -> Any:
    return build_config({"folders": [{"path": "/cam"}], "notify": {
        **notify, "targets": [{"url": f"json://127.0.0.1:{inbox.port}/n"}]},
        "health": {"ping": f"http://127.0.0.1:{inbox.port}/ping/abc", "interval_s": 1}})


def watch(inbox: Inbox, ledger: Ledger, engine: Engine, **notify: Any) -> Oversight:
    return Oversight(config(inbox, **notify), ledger, engine.watched(), secrets=lambda: ["KEY-123"])


def titles(inbox: Inbox) -> list[str]:
    return [n["title"].split(": ", 1)[1] for n in inbox.notices("/n")]


def test_an_account_episode_is_told_once_across_ticks_and_a_restart(tmp_path: Path, inbox: Inbox) -> None:
    engine = Engine()
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        o = watch(inbox, ledger, engine)
        engine.pause = ("bad_key", "the key KEY-123 is refused")
        for _ in range(3):
            o.tick()
        o.stop()
        o = watch(inbox, ledger, engine)  # a restart in the middle of it
        o.tick()
        engine.pause, engine.uploads = None, 1
        o.tick()
        o.tick()
        o.stop()
    assert titles(inbox) == ["uploads paused (the API key is refused)", "uploads resumed"]
    assert "KEY-123" not in str(inbox.notices("/n")) and "the key *** is refused" in inbox.notices("/n")[0]["message"]


def test_a_ledger_episode_and_an_outage_past_its_threshold(tmp_path: Path, inbox: Inbox) -> None:
    engine = Engine()
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        o = watch(inbox, ledger, engine, outage_after_s=60)
        engine.pause, engine.outage_since = ("outage", "cannot reach host"), time.time() - 30
        o.tick()  # 30 s: not news yet
        engine.outage_since = time.time() - 61
        o.tick()
        o.tick()
        o.stop()
        o = watch(inbox, ledger, engine, outage_after_s=60)  # a restart in the middle of it
        o.tick()
        engine.pause, engine.outage_since, engine.uploads = None, None, 1
        o.tick()
        engine.pause = ("ledger", "disk full")
        o.tick()
        o.tick()
        engine.pause = None
        o.tick()
        o.stop()
    assert [t.split(" for ")[0] for t in titles(inbox)] == [
        "memories.ai unreachable", "memories.ai reachable again", "cannot write its ledger", "ledger writable again"]


def test_failures_are_told_together_and_only_new_ones(tmp_path: Path, inbox: Inbox) -> None:
    engine = Engine()
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        o = watch(inbox, ledger, engine)
        o.tick()  # first start: what failed before is not news
        for i in range(3):
            path = tmp_path / f"{i}.mp4"
            path.write_bytes(b"x" * (i + 1))
            record = ledger.register(path, path.stat(), str(tmp_path), f"{i:064d}", "video", "default")
            ledger.transition(record.id, State.FAILED, last_error="HTTP 500")
        o._scanned_at = 0
        o.tick()
        o._scanned_at = 0
        o.tick()
        o.stop()
    assert titles(inbox) == ["3 files failed"]
    assert inbox.notices("/n")[0]["message"].count("HTTP 500") == 3


def test_pings_go_every_interval_and_say_fail_while_paused(tmp_path: Path, inbox: Inbox) -> None:
    engine = Engine()
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        o = watch(inbox, ledger, engine)
        o.tick()
        engine.pause = ("no_credits", "x")
        o._pinged_at = 0
        o.tick()
        until(lambda: len(inbox.pings()) == 2, 5)
        o.stop()
    assert inbox.pings() == ["/ping/abc", "/ping/abc/fail"]


def test_the_digest_is_due_at_the_next_local_time() -> None:
    start = time.mktime((2026, 11, 30, 7, 0, 0, 0, 0, -1))
    assert next_time("08:00", start) - start == 3600
    assert next_time("06:30:15", start) - start == 23 * 3600 + 30 * 60 + 15


def test_apprise_is_not_even_imported_without_a_target(tmp_path: Path) -> None:
    import subprocess
    import sys
    code = ("import sys; from mavi_sync.config import build_config; from mavi_sync.ledger.store import Ledger; "
            "from mavi_sync.owner.oversight import Oversight, Watched; "
            f"o = Oversight(build_config({{'folders': [{{'path': '/cam'}}]}}), Ledger({str(tmp_path / 'l')!r}), "
            "Watched(lambda: ('bad_key', 'x'), lambda: None, lambda: 0)); o.tick(); o.stop(); "
            "assert 'apprise' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
