"""Consistent copies of the ledger (SQLite's online backup), kept, made when due, put back."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mavi_sync.config.schema import LedgerConfig
from mavi_sync.find.backup import Backups, backup_now, copies, made_at, name_at
from mavi_sync.ledger.store import Ledger
from tests.conftest import API_KEY, api_toml


def count(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
    finally:
        db.close()


def test_a_copy_taken_while_the_ledger_is_written_is_whole(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    done = threading.Event()

    def write() -> None:
        n = 0
        while not done.is_set() and n < 20000:
            ledger.add(f"{n:064x}", "video", "default", n)
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        seen = []
        for i in range(5):
            before = count(ledger.path)
            copy = backup_now(ledger.path, tmp_path / "copies", keep=10, now=1000.0 + i)
            seen.append((before, count(copy), count(ledger.path)))
    finally:
        done.set()
        writer.join(30)
        ledger.close()
    assert all(low <= got <= high for low, got, high in seen)  # one moment's rows: never torn
    assert any(got > 0 for _, got, _ in seen)
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == [name_at(1000.0 + i) for i in range(5)]


def test_only_the_newest_copies_are_kept_and_their_names_say_when(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite3").close()
    for when in (86400.0, 3 * 86400.0, 2 * 86400.0, 4 * 86400.0):
        backup_now(tmp_path / "ledger.sqlite3", tmp_path / "copies", keep=2, now=when)
    kept = copies(tmp_path / "copies")
    assert [made_at(p) for p in kept] == [3 * 86400.0, 4 * 86400.0]
    assert kept[0].name == "ledger-19700104T000000Z.sqlite3"


def test_the_daemon_makes_a_copy_when_one_is_due_and_tries_again_after_a_failure(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite3").close()
    now = [100_000.0]
    config = LedgerConfig(backup_dir=tmp_path / "copies", backup_interval_s=3600, backup_keep=3)
    backups = Backups(config, tmp_path / "ledger.sqlite3", clock=lambda: now[0])
    assert backups.tick() is not None  # none yet: one at start
    now[0] += 3599
    assert backups.tick() is None
    now[0] += 1
    assert backups.tick() is not None and len(copies(tmp_path / "copies")) == 2
    blocked = Backups(LedgerConfig(backup_dir=tmp_path / "ledger.sqlite3" / "x", backup_interval_s=600),
                      tmp_path / "ledger.sqlite3", clock=lambda: now[0])
    assert blocked.tick() is None  # logged (ledger_backup_failed), tried again…
    now[0] += 599
    assert not blocked.due(now[0])
    now[0] += 1
    assert blocked.due(now[0])  # …at the interval, or RETRY_S if that is sooner


def test_the_running_daemon_keeps_a_copy(tmp_path: Path, emulator) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cam").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'{api_toml(emulator.url)}[ledger]\npath = "{tmp_path / "ledger.sqlite3"}"\n'
                      f'backup_dir = "{tmp_path / "copies"}"\n[[folders]]\npath = "{tmp_path / "cam"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    proc = subprocess.Popen([sys.executable, "-m", "mavi_sync", "run", "--config", str(config)],
                            env={**env, "MAVI_API_KEY": API_KEY}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not copies(tmp_path / "copies") and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode()
    [copy] = copies(tmp_path / "copies")
    assert count(copy) == 0 and '"event": "ledger_backup_done"' in out


@pytest.mark.parametrize("fleet", [False, True])
def test_backup_ledger_needs_a_place_and_a_box_of_its_own(tmp_path: Path, fleet: bool) -> None:
    (tmp_path / "cam").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[ledger]\npath = "{tmp_path / "ledger.sqlite3"}"\n[[folders]]\npath = "{tmp_path / "cam"}"\n'
                      + ('[fleet]\ndatabase = "postgresql://mavi@db.example/mavi"\n' if fleet else ""))
    result = subprocess.run([sys.executable, "-m", "mavi_sync", "backup-ledger", "--config", str(config)]
                            + (["--to", str(tmp_path)] if fleet else []), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert ("back it up with pg_dump" if fleet else "no [ledger] backup_dir is set") in result.stderr
