"""`mavi-sync upload` and `mavi-sync emulator` as a user runs them: subprocesses, real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.conftest import API_KEY, api_toml

CLI = [sys.executable, "-m", "mavi_sync"]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MAVI_API_KEY": API_KEY, **(env or {})})


def config_for(tmp_path: Path, url: str) -> Path:
    (tmp_path / "cam").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(f"""
{api_toml(url)}status_poll_initial_s = 0.1
status_poll_max_s = 0.2
[ledger]
path = "{tmp_path / 'ledger.sqlite3'}"
[[folders]]
path = "{tmp_path / 'cam'}"
tags = ["cli"]
""", encoding="utf-8")
    return path


def test_upload_sends_follows_and_remembers(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    video = write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    image = write_image(tmp_path / "cam" / "b.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    junk = tmp_path / "cam" / "c.mp4"
    junk.write_text("not a video")
    first = run("upload", "--config", str(config), str(video), str(image), str(junk), "--json")
    assert first.returncode == 1, first.stderr  # one file was refused
    rows = {Path(r["path"]).name: r for r in json.loads(first.stdout)}
    assert rows["a.mp4"]["state"] == "confirmed" and rows["a.mp4"]["remote_status"] == "PARSE"
    assert rows["b.jpg"]["state"] == "confirmed" and rows["c.mp4"]["state"] == "rejected"
    assert "text file" in rows["c.mp4"]["detail"]
    again = run("upload", "--config", str(config), str(video), str(image))
    assert again.returncode == 0 and again.stdout.count("already uploaded") == 2
    assert len(admin.uploads("video")) == 1 and len(admin.uploads("image")) == 1
    assert API_KEY not in first.stdout + first.stderr + again.stdout + again.stderr


def test_upload_explains_an_account_problem(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    video = write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    result = run("upload", "--config", str(config), str(video), env={"MAVI_API_KEY": "sk-mavi-wrong-key-000"})
    assert result.returncode == 1
    assert "account problem (bad_key" in result.stderr and "Try: Check the API key" in result.stderr
    assert "sk-mavi-wrong-key-000" not in result.stderr


def test_upload_refuses_a_file_outside_the_folders(emulator, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    stray = write_video(tmp_path / "elsewhere.mp4", VideoSpec())
    result = run("upload", "--config", str(config), str(stray))
    assert result.returncode == 1 and "is not inside a configured folder" in result.stderr


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


def test_a_multi_hundred_mb_upload_keeps_the_client_small(tmp_path: Path) -> None:
    """Streaming, not buffering: the client process's peak RSS stays far below the file size."""
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    with EmulatorServer(tmp_path / "e", Settings(api_key=API_KEY, keep_bytes=False)) as emulator:
        peak_mb, asset = _upload_big(emulator.url, tmp_path)
    assert asset["size"] == 400 * 1000 * 1000 and asset["sha256"] == SPARSE_400MB_SHA256
    print(f"client peak RSS {peak_mb} MB for a 400 MB upload")
    assert peak_mb < 120, f"client peak RSS {peak_mb} MB for a 400 MB upload"


# sha256 of 400,000,000 zero bytes
SPARSE_400MB_SHA256 = "36286c9dd45c90a7ff4443de7fc7301c5bc4900ff415d789dbc7f9a32a9dbb83"


def _upload_big(url: str, tmp_path: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    big = tmp_path / "big.mkv"
    with open(big, "wb") as f:
        f.truncate(400 * 1000 * 1000)  # sparse: costs no disk
    script = f"""
import os, sys
from pathlib import Path
from mavi_sync.api.client import Client, KeyRing
from mavi_sync.api.model import UploadJob
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
url = {url!r}
config = build_config({{"api": {{"base_url": url, "security_base_url": url, "asset_base_url": url}},
                        "folders": [{{"path": {str(tmp_path)!r}}}]}})
client = Client.from_config(config, keys=KeyRing.of(Secret({API_KEY!r}, "t")))
st = os.stat({str(big)!r})
job = UploadJob(Path({str(big)!r}), "asset", "big.mkv", "video/x-matroska", st.st_size, st.st_mtime_ns, "0" * 64)
client.upload(job)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec,
# so a large pytest process would show up as this client's peak.
print(int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]) // 1024)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [asset] = Admin(url).uploads("asset")
    return int(result.stdout.strip()), asset


def test_sync_uploads_everything_follows_and_exits(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    write_image(tmp_path / "cam" / "b.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    old = time.time() - 3600
    for p in (tmp_path / "cam").iterdir():
        os.utime(p, (old, old))
    result = run("sync", "--config", str(config), "--timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "confirmed           1         1         2" in result.stdout
    assert len(admin.uploads()) == 2


def _sync_on_a_terminal(config: Path, *, stdout_too: bool) -> "tuple[subprocess.Popen[bytes], str]":
    """`mavi-sync sync` with stderr (and stdout, if `stdout_too`) on a real pseudo-terminal, as
    when a person runs it; what the terminal received, read until the child closes it."""
    import pty
    import select
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, "sync", "--config", str(config), "--timeout", "60"], stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_too else subprocess.PIPE, stderr=slave,
                            env={**os.environ, "MAVI_API_KEY": API_KEY})
    os.close(slave)
    raw = b""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            raw += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc, raw.decode(errors="replace")


def test_sync_draws_a_progress_bar_on_a_terminal_only(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    for i in range(3):
        write_image(tmp_path / "cam" / f"p{i}.jpg", ImageSpec(taken=f"2024:01:0{i + 1} 10:00:00"))
    old = time.time() - 3600
    for p in (tmp_path / "cam").iterdir():
        os.utime(p, (old, old))
    proc, text = _sync_on_a_terminal(config, stdout_too=False)  # stdout a pipe, stderr the terminal
    assert proc.stdout is not None
    out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out + text
    assert "\r\x1b[K[" in text  # redrawn in place
    assert "[############] 3/3 files" in text and text.rstrip().endswith("failed 0")
    # stdout is a pipe here: the report goes there, the bar does not.
    assert "files  " not in out and "confirmed" in out


def test_status_retry_and_ledger_commands(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    video = write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    admin.faults(error_rate=1.0)
    (tmp_path / "extra.toml").write_text(config.read_text().replace("[uploads]", "[uploads]\nmax_attempts = 1\n"
                                                                   "request_attempts = 1"), encoding="utf-8")
    failed = run("upload", "--config", str(tmp_path / "extra.toml"), str(video), "--no-wait")
    assert failed.returncode == 1 and "failed" in failed.stdout
    status = json.loads(run("status", "--config", str(config), "--json").stdout)
    assert status["counts"] == {"failed": {"video": 1}} and status["running"] is False
    assert "server error" in status["last_errors"][0]["error"]
    listing = run("ledger", "--config", str(config), "--state", "failed")
    assert "failed     video" in listing.stdout and "a.mp4" in listing.stdout
    assert run("retry", "--config", str(config)).returncode == 1  # nothing named: a clear error
    retried = run("retry", "--config", str(config), "--all-failed")
    assert retried.returncode == 0 and "1 file(s) will be tried again" in retried.stdout
    admin.faults(error_rate=0.0)
    assert run("sync", "--config", str(config), "--timeout", "60").returncode == 0
    assert json.loads(run("status", "--config", str(config), "--json").stdout)["counts"] == {"confirmed": {"video": 1}}


def _render(raw: str) -> list[str]:
    """What a terminal shows for `raw`: \\r returns to the line's start, ESC[K clears to its
    end, \\n starts the next line."""
    lines, line, col = [], "", 0
    i = 0
    while i < len(raw):
        if raw.startswith("\x1b[K", i):
            line, i = line[:col], i + 3
            continue
        ch = raw[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append(line)
            line, col = "", 0
        else:
            line = line[:col] + ch + line[col + 1:]
            col += 1
        i += 1
    return lines + ([line] if line else [])


def test_sync_keeps_its_bar_under_the_log_lines_on_one_terminal(emulator, admin, tmp_path: Path) -> None:
    """Issue 16: logs and the bar on the same terminal: every log line whole, the bar last,
    and the total never going back."""
    import re
    config = config_for(tmp_path, emulator.url)  # log_level "info": a line per upload
    old = time.time() - 3600
    for i in range(6):
        photo = write_image(tmp_path / "cam" / f"p{i}.jpg", ImageSpec(taken=f"2024:01:0{i + 1} 10:00:00"))
        os.utime(photo, (old, old))
    proc, text = _sync_on_a_terminal(config, stdout_too=True)
    assert proc.wait(30) == 0, text
    screen = _render(text)
    logs = [line for line in screen if "upload_succeeded" in line]
    assert len(logs) == 6, screen
    assert not any(line.lstrip().startswith("{") for line in logs)  # a readable console on a TTY, not JSON
    assert not any(re.search(r"\d+/\d+ files", line) for line in logs), logs  # no bar mixed into a log line
    bars = [i for i, line in enumerate(screen) if re.search(r"\] \d+/\d+ files", line)]
    assert bars and bars[-1] > max(screen.index(line) for line in logs)  # the bar stays under them
    totals = [int(t) for t in re.findall(r"\] \d+/(\d+) files", text)]
    assert totals == sorted(totals), totals
