"""Crash and resume: kill -9 at random moments while a stream of files of all four
targets arrives; in the end every file is confirmed, none is missing, no video is sent
twice (the sha256 tag lookup closes that window), and the ledger passes its integrity check.
Images, security clips and assets have no server-side lookup: their duplicates are counted."""

from __future__ import annotations

import math
import random
import signal
import time
from pathlib import Path
from typing import Callable

from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import Daemon, until
from tests.e2e.stream import Stream, audit, folders_toml, record_figures, scale


def test_kill_9_at_random_moments_loses_nothing_and_sends_no_video_twice(
        emulator, admin: Admin, spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    kills, files = scale(4, 50), scale(16, 200)
    admin.faults(latency_s=0.4)  # requests take a while: many kills land while one is in flight
    d = spawn(emulator.url, folders=folders_toml(tmp_path))
    stream = Stream(tmp_path)
    rng = random.Random(2026)
    per_round = math.ceil(files / kills)
    killed_mid_request = 0
    for _ in range(kills):
        d.start()
        for _ in range(per_round):
            if stream.count < files:
                stream.add(stream.count)
        time.sleep(rng.uniform(0.3, 3.0))
        killed_mid_request += admin.stats()["in_flight"] > 0
        d.stop(signal.SIGKILL)
    admin.faults(latency_s=0)
    d.start()
    until(lambda: d.count("confirmed") == files, scale(60, 300), 0.5)
    assert d.stop() == 0
    result = audit(stream, admin, d.root / "ledger.sqlite3")
    record_figures("crash", kills=kills, killed_mid_request=killed_mid_request, **result.as_json())
    assert result.lost == 0 and result.duplicates["video"] == 0, result
    assert result.integrity == "ok" and result.ledger_states == {"confirmed": files}, result
    archived = list((tmp_path / "archive").iterdir())
    assert len(archived) == len(stream.written["video"])  # archived once confirmed, none lost on the way
