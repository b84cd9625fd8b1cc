"""Detection latency: from the moment a writer has finished a file in a watched folder (its
last write, close, utime or rename) to the moment its upload reaches the emulator, for
every writer pattern of mavi_sync/dev/writers.py; and the daemon's CPU while it has nothing
to do.

Latency: one daemon, one pattern after another. Each pattern writes `files` small real
videos at once, each from its own thread, started at random moments within a second (so
the daemon's 0.2 s tick is met at every phase), pausing 1 s between rounds. A file settles
`settle_s` after its writer's last change, close included, for every pattern: the target
is p95 ≤ settle_s + 0.5 s. Any upload whose bytes are not a finished file's (a prefix) is
counted: the target is none.

Idle: a fresh daemon over a folder of 10,000 files the ledger already holds; once its
walk is done, its utime+stime over 60 s, as a share of one core.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import DaemonProcess, config_text, scratch
from bench.upload import cpu_since, tree_cpu
from bench.walk import log_event, seed_ledger, sparse_tree
from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.dev.writers import PATTERNS, final_path
from mavi_sync.emulator.admin import Admin

PAUSE_S = 1.0  # between a writer's rounds: below settle_s, as a recorder's are


def _clip(staging: Path, i: int) -> bytes:
    """A distinct real video (its length and creation time differ), as bytes."""
    path = write_video(staging / f"src{i}.mp4", VideoSpec(seconds=0.2 + (i % 50) / 100,
                                                         creation_time=f"2024-01-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z"))
    data = path.read_bytes()
    path.unlink()
    return data


def _pattern(admin: Admin, folder: Path, staging: Path, pattern: str, files: int, first: int,
             settle_s: float, rng: random.Random) -> tuple[list[float], int]:
    """(latencies of this pattern's files, uploads that were no finished file)."""
    clips = {first + k: _clip(staging, first + k) for k in range(files)}
    done: dict[str, float] = {}  # sha256 -> completed at (wall)

    def write(i: int) -> None:
        time.sleep(rng.uniform(0, 1))
        own = staging / f"w{i}"
        own.mkdir()
        final = final_path(folder, pattern, f"{pattern}-{i}.mp4")
        completed = PATTERNS[pattern](final, clips[i], own, PAUSE_S)
        done[hashlib.sha256(clips[i]).hexdigest()] = completed

    before = {u["id"] for u in admin.uploads()}
    threads = [threading.Thread(target=write, args=(i,)) for i in clips]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    deadline = time.monotonic() + settle_s + 60
    while time.monotonic() < deadline:
        new = [u for u in admin.uploads() if u["id"] not in before]
        if {u["sha256"] for u in new} >= set(done):
            break
        time.sleep(0.1)
    time.sleep(1.0)  # (a prefix would have arrived before its file's final bytes; this is for extras)
    new = [u for u in admin.uploads() if u["id"] not in before]
    latencies = [u["created_at"] - done[u["sha256"]] for u in new if u["sha256"] in done]
    return latencies, sum(1 for u in new if u["sha256"] not in done)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def measure(url: str, files: int = 20, settle_s: float = 2.0) -> dict[str, Any]:
    """Per pattern: p50/p95/max latency over `files` files (one run: the patterns are many)."""
    admin = Admin(url)
    rng = random.Random(2026)
    out: dict[str, Any] = {"files_per_pattern": files, "settle_s": settle_s, "pause_s": PAUSE_S, "patterns": {}}
    with scratch("mavi-bench-latency-", url, uploads="rate_limit_per_minute = 6000", folder_extra='target = "video"',
                 settle_s=settle_s) as (root, folder, staging, config):
        with DaemonProcess(config, root / "daemon.log") as daemon:
            daemon.wait_for(lambda: (root / "ledger.sqlite3").exists(), 60)
            time.sleep(1)
            for n, pattern in enumerate(sorted(PATTERNS)):
                pattern_dir = staging / pattern
                pattern_dir.mkdir()
                lat, partial = _pattern(admin, folder, pattern_dir, pattern, files, n * files, settle_s, rng)
                out["patterns"][pattern] = {
                    "files": len(lat), "p50_s": statistics.median(lat), "p95_s": p95(lat), "max_s": max(lat),
                    "p95_over_settle_s": p95(lat) - settle_s, "partial_uploads": partial}
    pats = out["patterns"].values()
    out["worst_p95_over_settle_s"] = max(p["p95_over_settle_s"] for p in pats)
    out["partial_uploads"] = sum(p["partial_uploads"] for p in pats)
    out["missing"] = sum(files - p["files"] for p in pats)
    return out


def idle(url: str, files: int = 10_000, seconds: float = 60.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mavi-bench-idle-") as tmp:
        root = Path(tmp)
        folder = root / "nvr"
        sparse_tree(folder, files)
        seed_ledger(root / "ledger.sqlite3", folder, namespace="default")
        config = root / "config.toml"
        config.write_text(config_text(url, root, folder, log_level="info"))
        log = root / "daemon.log"
        with DaemonProcess(config, log) as daemon:
            assert daemon.proc is not None
            daemon.wait_for(lambda: log_event(log, "walk_done"), 120)
            time.sleep(2)
            cpu0, t0 = tree_cpu(daemon.proc.pid), time.monotonic()  # a probe helper counts too
            time.sleep(seconds)
            cpu, wall = cpu_since(daemon.proc.pid, cpu0), time.monotonic() - t0
            threads = len(os.listdir(f"/proc/{daemon.proc.pid}/task"))
    return {"files": files, "seconds": round(wall, 1), "cpu_s": cpu, "share_of_one_core": cpu / wall,
            "threads": threads}
