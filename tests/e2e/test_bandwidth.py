"""Upload windows, the byte cap and a pause by hand on the running daemon: outside a window
files queue and nothing is sent; the window opening at its time releases them without a
restart; `mavi-sync pause` stops an upload in flight (sent again whole on `resume`); a
reload changes the cap and the windows; `status`, the summary (systemd's STATUS= line) and
the metrics show each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta
from typing import Callable

import requests

from mavi_sync.dev.samples import VideoSpec, grown_video, write_video
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.runner import EmulatorServer
from tests.conftest import API_KEY
from tests.e2e.inbox import Inbox
from tests.e2e.rig import CLI, Daemon, sha, until


def clock(seconds_from_now: float) -> str:
    return (datetime.now() + timedelta(seconds=seconds_from_now)).strftime("%H:%M:%S")


def cli(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args, "--config", str(d.config)], capture_output=True, text=True, timeout=60)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_window_holds_files_until_its_time_then_pause_and_resume_by_hand(
        spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin) -> None:
    with Inbox() as inbox:
        window_then_hand_pause(spawn, emulator, admin, inbox)
    assert inbox.pings() and "/ping/fail" not in inbox.pings()  # both are wanted: healthy all along


def window_then_hand_pause(spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin, inbox: Inbox) -> None:
    port = free_port()
    opens = clock(8)
    health = f'[health]\nping = "{inbox.url("/ping")}"\ninterval_s = 1\n[metrics]\nport = {port}\n'
    d = spawn(emulator.url, tables=f'[bandwidth]\nwindows = ["{opens}-{clock(7200)}"]\n{health}')
    d.start()
    write_video(d.camera / "early.mp4", VideoSpec(seconds=1))
    until(lambda: d.status().get("bandwidth", {}).get("held"), 10)
    status = d.status()
    assert status["bandwidth"]["window"] == "closed" and f"until {opens}" in status["bandwidth"]["held"]
    until(lambda: "outside the upload windows" in d.status()["summary"], 10)  # what STATUS= says too
    text = cli(d, "status").stdout
    assert "upload window: closed" in text, text
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "mavi_sync_upload_window_open 0.0" in metrics
    until(lambda: d.count("ready") + d.count("discovered") == 1 or d.events("uploads_held"), 10)
    assert admin.uploads() == [], "sent outside the window"
    # The window opens at its time, without a restart or reload.
    until(lambda: d.count("confirmed") == 1, 30)
    assert datetime.now().strftime("%H:%M:%S") >= opens
    assert [e["event"] for e in d.events("uploads_released")] == ["uploads_released"]

    # A pause by hand: an upload in flight (capped, to be slow) is stopped and sent again whole.
    d.write_config(emulator.url, tables=f'[bandwidth]\nlimit = "1M"\n{health}')
    d.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
    until(lambda: (d.status().get("bandwidth") or {}).get("cap") == "1 MiB/s", 10)
    assert "mavi_sync_bandwidth_cap_bytes_per_second 1.048576e+06" in requests.get(
        f"http://127.0.0.1:{port}/metrics", timeout=5).text
    big = grown_video(d.camera / "big.mp4", 4 << 20, "big")
    until(lambda: d.count("uploading") == 1, 30)
    time.sleep(1.5)
    paused = cli(d, "pause", "--for", "2h")
    assert paused.returncode == 0 and "the daemon holds uploads" in paused.stdout, paused
    until(lambda: d.events("upload_held"), 10)
    hand = d.status()["hand_paused"]
    assert hand["by"] and hand["until"] - hand["at"] == 7200
    assert "PAUSED BY HAND: paused by hand by" in cli(d, "status").stdout
    until(lambda: "paused by hand" in d.status()["summary"], 10)  # (written at each heartbeat)
    assert "mavi_sync_paused_by_hand 1.0" in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    time.sleep(2)
    assert d.count("confirmed") == 1 and not [u for u in admin.uploads() if u.get("filename") == "big.mp4"]
    resumed = cli(d, "resume")
    assert resumed.returncode == 0 and "the daemon uploads again" in resumed.stdout, resumed
    until(lambda: d.count("confirmed") == 2, 60)
    assert d.stop() == 0
    [sent] = [u for u in admin.uploads() if u.get("filename") == "big.mp4"]
    assert sent["sha256"] == sha(big) and sent["size"] == os.path.getsize(big)
    held = d.events("upload_held")
    assert len(held) == 1 and held[0]["path"] == str(big)
    [row] = [r for r in d.ledger_rows() if r["path"] == str(big)]
    assert row["attempts"] == 1, row  # the stopped attempt was given back
    assert d.status()["hand_paused"] is None


def test_a_reload_closes_the_window_and_sync_by_hand_sends_anyway_at_the_cap(
        spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin) -> None:
    d = spawn(emulator.url)
    d.start()
    d.write_config(emulator.url, tables=f'[bandwidth]\nlimit = "1M"\nwindows = ["{clock(3600)}-{clock(7200)}"]\n')
    d.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
    until(lambda: (d.status().get("bandwidth") or {}).get("window") == "closed", 10)
    assert d.stop() == 0
    assert cli(d, "pause").returncode == 0
    big = grown_video(d.camera / "big.mp4", 2 << 20, "sync")
    started = time.monotonic()
    out = subprocess.run([*CLI, "sync", "--config", str(d.config), "--timeout", "60"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "MAVI_API_KEY": API_KEY})
    took = time.monotonic() - started
    assert [u["sha256"] for u in admin.uploads()] == [sha(big)], out.stderr[-2000:]
    assert took >= 1.5, f"2 MiB at a 1 MiB/s cap went in {took:.2f} s"  # (a floor: never flaky when slow)


def test_a_pause_by_hand_outlives_a_restart_and_ends_at_its_time(
        spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin) -> None:
    d = spawn(emulator.url)
    assert cli(d, "pause").returncode == 1  # no ledger yet: said, not created
    assert "nothing has run with this config yet" in cli(d, "pause").stderr
    d.start()
    assert d.stop() == 0
    out = cli(d, "pause", "--for", "6s")
    assert "no daemon runs now: uploads stay paused when it starts" in out.stdout, out
    d.start()
    write_video(d.camera / "a.mp4", VideoSpec(seconds=1))
    time.sleep(2.5)
    assert admin.uploads() == [] and json.loads(cli(d, "status", "--json").stdout)["hand_paused"]
    until(lambda: d.count("confirmed") == 1, 30)  # the pause ran out by itself
    [ended] = d.events("uploads_resumed")
    assert ended["by"] == "timer"
    assert cli(d, "resume").stdout.startswith("not paused by hand")
    assert d.stop() == 0
