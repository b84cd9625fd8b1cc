"""`mavi-sync emulator` as a real process: what it leaves behind when it is stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest
import requests

from tests.conftest import API_KEY

CLI = [sys.executable, "-m", "mavi_sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_upload_and_stop(tmp_path: Path, *extra: str, sig: int = signal.SIGTERM) -> "tuple[int, str]":
    """Start the emulator (its temporary directories under tmp_path), upload one file,
    stop it with `sig`: (exit status, what it printed)."""
    port = _free_port()
    proc = subprocess.Popen([*CLI, "emulator", "--port", str(port), *extra], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MAVI_API_KEY": API_KEY, "TMPDIR": str(tmp_path)})
    try:
        url = f"http://127.0.0.1:{port}"
        answer: Optional[dict[str, object]] = None
        for _ in range(300):  # bounded: 15 s for the process to start listening
            try:
                answer = requests.post(url + "/serve/api/v1/upload", headers={"Authorization": API_KEY},
                                       files={"file": ("a.mp4", b"\0" * 1000, "video/mp4")}, timeout=5).json()
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert answer is not None and answer["code"] == "0000", answer
    finally:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_temporary_data_dir_is_removed_when_the_emulator_is_stopped(tmp_path: Path, sig: int) -> None:
    code, err = _serve_upload_and_stop(tmp_path, sig=sig)
    assert code == 0, err
    assert "mavi-emulator-" in err  # it said where its data was
    assert not list(tmp_path.glob("mavi-emulator-*")), list(tmp_path.iterdir())


def test_a_data_dir_given_is_kept_when_the_emulator_is_stopped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, err = _serve_upload_and_stop(tmp_path, "--data-dir", str(data))
    assert code == 0, err
    assert (data / "records.jsonl").exists()  # the owner's directory: a restart still knows its videos
