"""Walking big folders: a restart over files the ledger already holds, and a first start
over new ones, each against `find DIR -type f -printf '%s %T@\\n'` timed in the same run.

The tree looks like an NVR dump: one directory per day and hour, FILES_PER_DIR files each.

- Restart: the ledger is seeded with every file as confirmed (rows written in bulk, as the
  daemon would have left them after uploading them one by one), then the daemon starts.
  The figure is the daemon's own `walk_done` duration. "Re-hashed" is counted by the
  kernel: every file's access time is set before its modification time, so that the
  first read of it moves the access time (relatime does that much); files whose access
  time moved were read by someone, and nothing but the daemon runs.
- First start: tiny distinct JPEGs, an empty ledger; the figure is the time until the walk
  has handed every file to the upload queue, at several sizes, so a step that grows faster
  than the file count shows as a rising cost per file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from bench.harness import DaemonProcess, Spread, config_text
from mavi_sync.ledger.store import Ledger
from mavi_sync.dev.samples import ImageSpec, write_image

FILES_PER_DIR = 500
SPARSE_SIZE = 64 << 10


def file_paths(root: Path, count: int) -> Iterator[Path]:
    for i in range(count):
        d = i // FILES_PER_DIR
        yield root / f"2024-{1 + d // 24 // 28:02d}-{1 + d // 24 % 28:02d}" / f"{d % 24:02d}" / f"clip{i:06d}.jpg"


ATIME_BEHIND_S = 100


def sparse_tree(root: Path, count: int) -> None:
    """Files of SPARSE_SIZE holes (no disk used), each with its access time behind its
    modification time, so that a read of it shows (see `read_since`)."""
    for path in file_paths(root, count):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(SPARSE_SIZE)
        _arm(path)


def _arm(path: Path) -> None:
    mtime = path.stat().st_mtime_ns
    os.utime(path, ns=(mtime - ATIME_BEHIND_S * 10**9, mtime))


def reads_show(scratch: Path) -> bool:
    """Does this file system move the access time on a read (not mounted noatime)?"""
    scratch.write_bytes(b"x")
    _arm(scratch)
    before = scratch.stat().st_atime_ns
    scratch.read_bytes()
    moved = scratch.stat().st_atime_ns != before
    scratch.unlink()
    return moved


def read_since_armed(root: Path) -> int:
    """Files under `root` read since they were armed; re-arms them for the next run."""
    read = 0
    for path in root.rglob("*"):
        st = path.stat()
        if path.is_file() and st.st_atime_ns != st.st_mtime_ns - ATIME_BEHIND_S * 10**9:
            read += 1
            _arm(path)
    return read


def jpeg_tree(root: Path, count: int) -> None:
    """Valid, distinct JPEGs: one small image, each copy with its index after the end marker
    (decoders ignore trailing bytes) so every file has its own content hash."""
    seed = write_image(root.parent / "seed.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    base = seed.read_bytes()
    seed.unlink()
    old = time.time() - 3600
    for i, path in enumerate(file_paths(root, count)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base + i.to_bytes(4, "big"))
        os.utime(path, (old, old))  # written long ago: settled at once


def seed_ledger(ledger_path: Path, root: Path, namespace: str) -> int:
    """Every file under `root` as confirmed, with the stat it has now. The schema comes from
    Ledger (migrations); the rows are written in one transaction, not 100k."""
    Ledger(ledger_path).close()
    now = time.time()
    files, paths = [], []
    for i, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file())):
        st = path.stat()
        sha = hashlib.sha256(os.fsencode(path)).hexdigest()  # stands in for the content hash
        files.append((i + 1, sha, "image", namespace, st.st_size, "confirmed", f"img-{i}", now, now))
        paths.append((os.fsencode(path), i + 1, sha, str(root), st.st_size, st.st_mtime_ns, st.st_ino,
                      st.st_dev, now))
    db = sqlite3.connect(ledger_path)
    with db:
        db.executemany("INSERT INTO files (id, sha256, target, namespace, size, state, remote_id, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
        db.executemany("INSERT INTO paths (path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", paths)
    db.close()
    return len(paths)


def find_s(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["find", str(root), "-type", "f", "-printf", r"%s %T@\n"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def log_event(log: Path, event: str) -> dict[str, Any] | None:
    if not log.exists():
        return None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if f'"{event}"' in line:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == event:
                return entry
    return None


def rchar(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/PID/io")


def daemon_walk(root: Path, folder: Path, url: str, run: int, extra: str = "",
                env: Optional[dict[str, str]] = None) -> dict[str, float]:
    """Start the daemon; return its walk time and what it read, once the walk is done.
    `extra`: more config (a [fleet] table); `env`: more environment (its password)."""
    config = root / f"config-{run}.toml"
    # A huge batch interval and a dead API would both distort the walk; the emulator is real.
    config.write_text(config_text(url, root, folder, log_level="info") + extra)
    log = root / f"daemon-{run}.log"
    started = time.perf_counter()
    with DaemonProcess(config, log, env=env) as daemon:
        assert daemon.proc is not None
        done = daemon.wait_for(lambda: log_event(log, "walk_done"), 600)
        wall = time.perf_counter() - started
        read = rchar(daemon.proc.pid)
    return {"walk_s": done["duration_ms"] / 1000, "start_to_walked_s": wall, "files": done["files"],
            "rchar": read}


def restart(count: int, url: str, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mavi-bench-restart-") as tmp:
        root = Path(tmp)
        folder = root / "nvr"
        sparse_tree(folder, count)
        seed_ledger(root / "ledger.sqlite3", folder, namespace="default")
        countable = reads_show(root / "atime-probe")
        # The first start after the uploads has no directory marks yet (a running daemon
        # writes them on its walks, every rescan_interval_s): it compares every ledger row.
        first_find = find_s(folder)
        first = daemon_walk(root, folder, url, 0)
        find_runs, walks, reads = [], [], [read_since_armed(folder) if countable else None]
        for run in range(1, runs + 1):
            find_runs.append(find_s(folder))
            walks.append(daemon_walk(root, folder, url, run))
            reads.append(read_since_armed(folder) if countable else None)
        content = count * SPARSE_SIZE
    walk = Spread.of([w["walk_s"] for w in walks])
    find = Spread.of(find_runs)
    return {"files": count, "runs": runs, "find_s": find.as_json(), "walk_s": walk.as_json(),
            "ratio": Spread.of([w["walk_s"] / f for w, f in zip(walks, find_runs)]).as_json(),
            "unmarked_walk_s": first["walk_s"], "unmarked_ratio": first["walk_s"] / first_find,
            "start_to_walked_s": Spread.of([w["start_to_walked_s"] for w in walks]).as_json(),
            "read_by_daemon_mb": max(w["rchar"] for w in walks) / 1e6, "content_mb": content / 1e6,
            # None: the file system does not record reads (noatime), so they cannot be counted.
            "rehashed": max(reads) if countable else None}


def first_start(counts: list[int], url: str, runs: int) -> dict[str, Any]:
    rows = []
    for count in counts:
        find_runs, walks = [], []
        for run in range(runs):
            with tempfile.TemporaryDirectory(prefix="mavi-bench-first-") as tmp:
                root = Path(tmp)
                folder = root / "dcim"
                jpeg_tree(folder, count)
                find_runs.append(find_s(folder))
                walks.append(daemon_walk(root, folder, url, run))
        rows.append({"files": count, "find_s": Spread.of(find_runs).as_json(),
                     "queued_s": Spread.of([w["walk_s"] for w in walks]).as_json(),
                     "us_per_file": Spread.of([w["walk_s"] / count * 1e6 for w in walks]).as_json(),
                     "ratio": Spread.of([w["walk_s"] / f for w, f in zip(walks, find_runs)]).as_json()})
    per_file = [r["us_per_file"]["median"] for r in rows]
    return {"sizes": rows, "growth": per_file[-1] / per_file[0]}


if __name__ == "__main__":
    import sys
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    from bench.harness import KEY
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as t, \
            EmulatorServer(Path(t), Settings(api_key=KEY, keep_bytes=False)) as server:
        print(json.dumps(restart(n, server.url, 1), indent=2))
