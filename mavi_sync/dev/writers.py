"""How cameras, recorders, file servers and sync tools really put a file in a folder,
replayed with real system calls for the writer suite (tests/e2e/test_writers.py) and the
detection-latency figure (`make bench`).

Each pattern writes `data` to `final` the way its writer does, pausing `pause_s` between
rounds, and returns the wall time at which the file became complete: its last write,
close, utime or rename. Sources for the patterns are in docs/design/writers.md, "The patterns".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

Writer = Callable[[Path, bytes, Path, float], float]  # (final, data, staging, pause_s) -> completed at
ROUNDS = 5
YEAR_S = 365 * 86400


def _chunks(data: bytes, n: int = ROUNDS) -> list[bytes]:
    step = max(1, -(-len(data) // n))
    return [data[i:i + step] for i in range(0, len(data), step)]


def append_rounds(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """NVRs and FTP servers resuming a transfer (APPE): open, append, close, pause, again."""
    for i, chunk in enumerate(_chunks(data)):
        time.sleep(pause_s if i else 0)
        with open(final, "ab") as fh:
            fh.write(chunk)
    return time.time()  # the last round's close


def slow_single_open(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """An FTP upload from a camera (Reolink, Hikvision): one open, data as it arrives."""
    with open(final, "wb") as fh:
        for i, chunk in enumerate(_chunks(data)):
            time.sleep(pause_s if i else 0)
            fh.write(chunk)
            fh.flush()
    return time.time()


def preallocated(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """SMB clients (SetEndOfFile) and recorders that fallocate: full size first, then filled."""
    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.posix_fallocate(fd, 0, len(data))
        offset = 0
        for chunk in _chunks(data):
            time.sleep(pause_s)
            os.pwrite(fd, chunk, offset)
            offset += len(chunk)
    finally:
        os.close(fd)
    return time.time()


def old_mtime(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """`cp -p`, `rsync -t`, camera apps: written slowly, then given the original's old mtime."""
    slow_single_open(final, data, staging, pause_s)
    past = time.time() - YEAR_S
    os.utime(final, (past, past))
    return time.time()


def _renamed(temp_name: Callable[[Path], Path]) -> Writer:
    def write(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
        temp = temp_name(final)
        slow_single_open(temp, data, staging, pause_s)
        os.rename(temp, final)
        return time.time()
    return write


# Temp names in the watched folder itself, renamed into place once complete.
rsync_temp = _renamed(lambda f: f.with_name(f".{f.name}.Xq3vZ1"))  # rsync's .name.XXXXXX
syncthing_temp = _renamed(lambda f: f.with_name(f".syncthing.{f.name}.tmp"))
part_temp = _renamed(lambda f: f.with_name(f.name + ".part"))  # browsers, curl -o, many apps
crdownload_temp = _renamed(lambda f: f.with_name(f.name + ".crdownload"))  # Chrome
proftpd_hidden = _renamed(lambda f: f.with_name(f".in.{f.name}."))  # ProFTPD HiddenStores
pureftpd_temp = _renamed(lambda f: f.with_name(f".pureftpd-upload.5f3a.{f.name}"))
winscp_temp = _renamed(lambda f: f.with_name(f.name + ".filepart"))  # WinSCP, FileZilla-style
resilio_temp = _renamed(lambda f: f.with_name(f.name + ".!sync"))  # Resilio Sync


def moved_in(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """Frigate, Blue Iris, NVR exports: written elsewhere on the same disk, then moved in."""
    temp = staging / final.name
    slow_single_open(temp, data, staging, pause_s)
    shutil.move(str(temp), str(final))
    return time.time()


def copied_folder(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """A whole folder copied in with `cp -r` (an SD card's DCIM, an export): the directory
    appears first, then its files, each written in one go by the real `cp`."""
    source = staging / f"{final.parent.name}-src"
    source.mkdir(parents=True, exist_ok=True)
    (source / final.name).write_bytes(data)
    subprocess.run(["cp", "-r", str(source), str(final.parent)], check=True, timeout=60)
    return time.time()


def truncated_rewrite(final: Path, data: bytes, staging: Path, pause_s: float) -> float:
    """A file rewritten in place (an NVR reusing a slot, `> file` then a slow write): the old
    content first, then truncated to nothing and written again, same inode."""
    final.write_bytes(data[: len(data) // 3])
    time.sleep(pause_s)
    with open(final, "r+b") as fh:
        fh.truncate(0)
        for i, chunk in enumerate(_chunks(data)):
            time.sleep(pause_s if i else 0)
            fh.write(chunk)
            fh.flush()
    return time.time()


PATTERNS: dict[str, Writer] = {
    "append_rounds": append_rounds, "slow_single_open": slow_single_open, "preallocated": preallocated,
    "old_mtime": old_mtime, "rsync_temp": rsync_temp, "syncthing_temp": syncthing_temp, "part_temp": part_temp,
    "crdownload_temp": crdownload_temp, "proftpd_hidden": proftpd_hidden, "pureftpd_temp": pureftpd_temp,
    "winscp_temp": winscp_temp, "resilio_temp": resilio_temp, "moved_in": moved_in,
    "copied_folder": copied_folder, "truncated_rewrite": truncated_rewrite,
}



def final_path(folder: Path, pattern: str, name: str) -> Path:
    """Where `pattern` leaves its file: `copied_folder` puts it in a directory of its own."""
    return folder / f"{name}.d" / name if pattern == "copied_folder" else folder / name
