"""Detection latency: from the moment a file is complete in a watched folder to the moment
its upload request reaches the emulator, and the daemon's CPU while it has nothing to do.

Latency, two ways files arrive:
- "closed": a camera writes the file in place and closes it. inotify's close-after-write
  lets the daemon wait only a short grace (settle.CLOSE_GRACE_S) instead of settle_s.
- "renamed": an NVR writes a temp name elsewhere and renames the finished file in. No
  close happens in the folder, so the daemon waits the folder's full settle_s.
Each file is a small real video, so nothing batches it; the next one is written after a
random pause, so the daemon's 0.2 s tick is met at every phase.

Idle: a fresh daemon over a folder of 10,000 files the ledger already holds; once its
walk is done, its utime+stime over 60 s, as a share of one core.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import DaemonProcess, Spread, config_text, scratch
from bench.upload import _requests, cpu_since, tree_cpu
from bench.walk import log_event, seed_ledger, sparse_tree
from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.intake.settle import CLOSE_GRACE_S

VIDEO_UPLOAD = "/serve/api/v1/upload"


def _clip(staging: Path, name: str, i: int) -> bytes:
    """A distinct real video (its creation time differs), as bytes to write in one go."""
    path = write_video(staging / name, VideoSpec(seconds=0.2, creation_time=f"2024-01-01T10:{i // 60:02d}:{i % 60:02d}Z"))
    data = path.read_bytes()
    path.unlink()
    return data


def one_run(url: str, how: str, files: int, settle_s: float, seed: int) -> list[float]:
    admin = Admin(url)
    rng = random.Random(seed)
    latencies = []
    with scratch("mavi-bench-latency-", url, uploads="rate_limit_per_minute = 600", folder_extra='target = "video"',
                 settle_s=settle_s) as (root, folder, staging, config):
        with DaemonProcess(config, root / "daemon.log") as daemon:
            daemon.wait_for(lambda: (root / "ledger.sqlite3").exists(), 60)
            time.sleep(1)
            for i in range(files):
                data = _clip(staging, f"clip{seed}-{i}.mp4", seed * 1000 + i)
                before = len(_requests(admin, VIDEO_UPLOAD))
                if how == "closed":
                    with open(folder / f"clip{i:03d}.mp4", "wb") as fh:
                        fh.write(data)
                    complete = time.time()  # closed: complete from here
                else:
                    temp = staging / f"clip{i:03d}.mp4"
                    temp.write_bytes(data)
                    os.rename(temp, folder / temp.name)
                    complete = time.time()
                entry = daemon.wait_for(lambda: (_requests(admin, VIDEO_UPLOAD)[before:] or [None])[0],
                                        settle_s + 30)
                latencies.append(entry["at"] - complete)
                time.sleep(rng.uniform(0.05, 0.6))
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure(url: str, runs: int, files: int = 20, settle_s: float = 3.0) -> dict[str, Any]:
    out: dict[str, Any] = {"files_per_run": files, "runs": runs, "settle_s": settle_s,
                           "close_grace_s": min(settle_s, CLOSE_GRACE_S)}
    for how, wait in (("closed", min(settle_s, CLOSE_GRACE_S)), ("renamed", settle_s)):
        runs_ = [one_run(url, how, files, settle_s, seed) for seed in range(runs)]
        out[how] = {"wait_s": wait,
                    "p50_s": Spread.of([statistics.median(r) for r in runs_]).as_json(),
                    "p95_s": Spread.of([p95(r) for r in runs_]).as_json(),
                    "max_s": max(max(r) for r in runs_),
                    "p95_over_wait_s": Spread.of([p95(r) - wait for r in runs_]).as_json()}
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
