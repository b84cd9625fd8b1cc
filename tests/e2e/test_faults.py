"""Faults at the server: a share of 5xx, "too fast" answers, connections dropped halfway
through the body and random latency, all at once. Every file ends confirmed, none lost,
no video twice; what the faults cost is counted."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import Daemon, until
from tests.e2e.stream import FULL, Stream, audit, folders_toml, record_figures, scale


def test_every_file_lands_through_5xx_throttling_drops_and_latency(
        emulator, admin: Admin, spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    files = scale(32, 500)
    faults = dict(error_rate=0.2, throttle_rate=0.1, drop_rate=0.05, latency_s=2.0 if FULL else 0.5)
    admin.faults(**faults)
    stream = Stream(tmp_path)
    folders = folders_toml(tmp_path, archive=False)
    for i in range(files // 2):  # a backlog, and more arriving while it drains
        stream.add(i)
    d = spawn(emulator.url, folders=folders, uploads="concurrency = 4")
    d.start()
    for i in range(files // 2, files):
        stream.add(i)
    until(lambda: d.count("confirmed") == files, scale(120, 1200), 1.0)
    assert d.stop() == 0
    result = audit(stream, admin, d.root / "ledger.sqlite3")
    answers = admin.stats()["answers"]
    record_figures("server faults", faults=faults, answers_5xx=sum(n for a, n in answers.items() if a[:1] == "5"),
                   answers_throttled=sum(n for a, n in answers.items() if "0429" in a or a.startswith("429")),
                   dropped=answers.get("dropped", 0), **result.as_json())
    assert result.lost == 0 and result.duplicates["video"] == 0, result
    assert result.integrity == "ok" and result.ledger_states == {"confirmed": files}, result
