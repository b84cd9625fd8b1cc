"""The API keys never appear in anything the daemon writes: a whole run with recognisable
keys (not shaped like `sk-…`, so the log scrubber cannot hide a leak) through the failure
paths, then everything it wrote is searched: its log at debug level, the ledger file and
its WAL, and the output of status, ledger, inspect, scan and check-config."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Callable

from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.conftest import fast_timing
from tests.e2e.rig import CLI, Daemon, until

KEY = "PLAINKEY-7f3a9c21e4b8d650-never-print"
SECURITY = "PLAINSEC-0d9e8f7a6b5c4d3e-never-print"


def test_no_key_in_logs_ledger_or_command_output(spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    key_file = tmp_path / "api-key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)  # readable by others: warned about
    security_file = tmp_path / "security-key"
    security_file.write_text(SECURITY)
    security_file.chmod(0o600)
    with EmulatorServer(tmp_path / "emulator", Settings(api_key=KEY, security_key=SECURITY,
                                                        timing=fast_timing())) as server:
        admin = Admin(server.url)
        sec = tmp_path / "security"
        sec.mkdir()
        folders = (f'[api.key]\nfile = "{key_file}"\n[api.security_key]\nfile = "{security_file}"\n'
                   f'[[folders]]\npath = "{tmp_path / "camera"}"\nsettle_s = 1\n'
                   f'[[folders]]\npath = "{sec}"\ntarget = "security"\nsettle_s = 1\n')
        d = spawn(server.url, folders=folders)
        admin.faults(error_rate=0.3, drop_rate=0.1)
        d.start()
        for i in range(4):
            write_image(d.camera / f"i{i}.jpg", ImageSpec(taken=f"2024:01:0{i + 1} 10:00:00"))
        write_video(d.camera / "v.mp4", VideoSpec(seconds=1))
        write_video(sec / "s.mp4", VideoSpec(seconds=1, creation_time="2024-02-02T10:00:00Z"))
        until(lambda: d.count("confirmed") >= 3, 60, 0.5)
        admin.faults(error_rate=0, drop_rate=0, bad_key=True)  # every key refused: the account path
        write_image(d.camera / "late.jpg", ImageSpec(taken="2024:03:03 10:00:00"))
        until(lambda: d.status().get("paused") == "bad_key", 30, 0.5)
        admin.faults(bad_key=False)
        until(lambda: d.count("confirmed") == 7, 60, 0.5)
        outputs = [subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)
                   for args in (["status", "--config", str(d.config)],
                                ["status", "--config", str(d.config), "--json"],
                                ["ledger", "--config", str(d.config), "--json"],
                                ["scan", "--config", str(d.config), "--dry-run"],
                                ["check-config", str(d.config)],
                                ["inspect", str(d.camera / "i0.jpg"), "--json"])]
        time.sleep(0.5)
        assert d.stop() == 0
        admin.close()

    written = {"daemon log": d.logs()}
    for r in outputs:
        written[" ".join(r.args[3:5])] = r.stdout + r.stderr
    for f in tmp_path.glob("ledger.sqlite3*"):  # the database, its WAL and shared memory
        written[f.name] = f.read_bytes().decode("latin-1")
    for name, text in written.items():
        for secret in (KEY, SECURITY, KEY[9:25], SECURITY[9:25]):
            assert secret not in text, f"a key leaked into {name}"
    log = written["daemon log"]
    assert '"level": "debug"' in log and '"event": "uploads_paused"' in log  # the failure paths ran
    assert "readable by others: chmod 600" in log  # the key file others can read is warned about
    assert any("readable by others" in r.stdout + r.stderr for r in outputs)  # check-config says so too
