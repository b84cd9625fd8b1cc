"""`mavi-sync migrate-ledger`: a box joining the fleet brings its SQLite ledger, idempotently;
`ledger --node` shows one node's rows. Real SQLite file, real PostgreSQL, the CLI as a user
runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State
from tests.pg import PASSWORD, PostgresServer

CLI = [sys.executable, "-m", "mavi_sync"]


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args, "--config", str(config)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MAVI_FLEET_PASSWORD": PASSWORD})


def test_a_box_brings_its_ledger_into_the_fleet_once(postgres: PostgresServer, tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    cam.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[[folders]]\npath = "{cam}"\n[ledger]\npath = "{tmp_path / "ledger.sqlite3"}"\n'
                      f'[fleet]\ndatabase = "{postgres.database()}"\nnode = "barn"\n')
    clip, photo = cam / "a.mp4", cam / "b.jpg"
    clip.write_bytes(b"clip")
    photo.write_bytes(b"photo")
    with Ledger(tmp_path / "ledger.sqlite3") as local:
        row = local.register(clip, clip.stat(), str(cam), "a" * 64, "video", "default")
        local.transition(row.id, State.UPLOADING, attempts=1)
        local.transition(row.id, State.CONFIRMED, remote_id="VI1")
        local.register(photo, photo.stat(), str(cam), "b" * 64, "image", "default")
        local.skip(cam / "fifo", "not a regular file (FIFO)")
        local.owe(clip, row.id, "delete")  # waiting to be deleted: the fleet owes it too
        old = tmp_path / "old.mp4"
        old.write_bytes(b"old")
        archived = local.register(old, old.stat(), str(cam), "c" * 64, "video", "default")
        local.transition(archived.id, State.UPLOADING)
        local.transition(archived.id, State.CONFIRMED, remote_id="VI0")
        local.duty_done(bytes(old), "archived", b"/archive/old.mp4")  # no path: its place comes along
    first = run(config, "migrate-ledger")
    assert first.returncode == 0, first.stderr
    assert "copied 3 content rows (3 new to the fleet), 2 paths and 1 skipped paths" in first.stdout
    again = run(config, "migrate-ledger")
    assert "copied 3 content rows (0 new to the fleet), 2 paths" in again.stdout  # idempotent
    rows = json.loads(run(config, "ledger", "--json").stdout)
    assert sorted((r["path"], r["place"], r["state"], r["remote_id"]) for r in rows) == [
        ("/archive/old.mp4", "archived", "confirmed", "VI0"), (str(clip), "watched", "confirmed", "VI1"),
        (str(photo), "watched", "ready", None)]
    status = json.loads(run(config, "status", "--json").stdout)
    assert status["after"]["delete"]["waiting"] == 1 and status["after"]["delete"]["oldest"]["path"] == str(clip)
    assert json.loads(run(config, "ledger", "--json", "--node", "another").stdout) == []
    assert run(config, "ledger", "--skipped").stdout.strip() == f"{cam / 'fifo'}: not a regular file (FIFO)"
    assert PASSWORD not in first.stdout + first.stderr
