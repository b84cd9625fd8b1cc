"""`mavi-sync sync`: one pass that uploads, follows and exits; its bar on a terminal only."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.commands.cli import CLI, config_for, run
from tests.conftest import API_KEY


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

