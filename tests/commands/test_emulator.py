"""`mavi-sync emulator`: serves until stopped; a bad flag is a clear error."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

from mavi_sync.emulator.admin import Admin
from tests.commands.cli import CLI, run
from tests.conftest import API_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])



def test_the_emulator_command_serves_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*CLI, "emulator", "--port", str(port), "--data-dir", str(tmp_path / "data"),
                             "--fault", "no_credits=true", "--parse-delay", "0.1"],
                            env={**os.environ, "MAVI_API_KEY": API_KEY}, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                faults = Admin(url).faults()
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert faults["no_credits"] is True
        answer = requests.post(url + "/serve/api/v1/upload", headers={"Authorization": API_KEY},
                               files={"file": ("a.mp4", b"x", "video/mp4")}, timeout=5).json()
        assert answer["code"] == "0402"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, -15) and f"127.0.0.1:{port}" in err



def test_a_bad_fault_flag_is_a_clear_error() -> None:
    result = run("emulator", "--fault", "error_rate=lots")
    assert result.returncode == 1 and "'lots' is not a number, true or false" in result.stderr

