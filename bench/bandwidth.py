"""The byte cap ([bandwidth] limit): the rate a big upload achieves under a cap of C bytes/s,
as a ratio to C, and the daemon's CPU per byte capped against uncapped, in the same daemon.

- Rate: the emulator stamps when the upload request arrived and when its body was read;
  size / (done - arrived), divided by C. The token bucket starts a request with at most one
  slice (0.1 s of the rate) in hand, so the first tenth of a second is the only burst.
- CPU: the daemon's (and its probe helper's) utime+stime from the moment the file appears
  until its upload is answered, per MB. Capped, the upload lasts size / C seconds, during
  which the daemon also does its idle work (the 0.2 s tick, the 1 s gate and oversight
  looks, heartbeats): its idle CPU per second, measured first in the same daemon, is
  reported and taken off ("net") so that the figure is the cost of sending, not of waiting.
  Each run starts once the one before is confirmed, so no status polls of earlier uploads
  fall into it.
- The same daemon, reloaded (SIGHUP) with `limit = "off"`, gives the uncapped figures: at
  full speed over loopback, and on a link as slow as the cap (the emulator reads bodies no
  faster than C: `link_bytes_per_s`), where an uncapped sender waits on its socket instead
  of on the cap. The second tells the cap's own cost from the cost of sending slowly. A
  small file goes first, so that the probe helper is running (and stays, probe_idle_s = 600)
  for both: its start-up (~0.15 s of CPU) would otherwise be charged to whichever run
  starts it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.harness import DaemonProcess, Spread, scratch
from bench.upload import cpu_since, daemon_run, tree_cpu
from mavi_sync.emulator.admin import Admin
from mavi_sync.owner.timetable import parse_rate

IDLE_S = 10.0


def _followed(root: Path) -> None:
    """Wait until no upload is being followed: the follower's status polls (every 0.5-1 s in
    the bench's config) would otherwise run during the next, long capped upload and be
    charged to it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{root / 'ledger.sqlite3'}?mode=ro", uri=True) as db:
            if not db.execute("SELECT COUNT(*) FROM files WHERE state = 'uploaded'").fetchone()[0]:
                return
        time.sleep(0.2)
    raise AssertionError("uploads still followed after 120 s")


def _config_with(config_path: Any, limit: str) -> None:
    text = config_path.read_text()
    head, _, _ = text.partition("[bandwidth]")
    config_path.write_text(f'{head}[bandwidth]\nlimit = "{limit}"\n')


def measure(url: str, cap: str, size: int, runs: int) -> dict[str, Any]:
    rate = parse_rate(cap)
    assert rate is not None
    admin = Admin(url)
    with scratch("mavi-bench-bw-", url, uploads="rate_limit_per_minute = 600\nprobe_idle_s = 600",
                 folder_extra=f'target = "video"\n[bandwidth]\nlimit = "{cap}"\n') as (root, folder, staging, config):
        with DaemonProcess(config, root / "daemon.log") as daemon:
            assert daemon.proc is not None
            daemon.wait_for(lambda: (root / "ledger.sqlite3").exists(), 60)
            daemon_run(daemon, admin, staging, folder, 1 << 20, "warm-up")  # starts the probe helper
            _followed(root)
            time.sleep(1)
            cpu0 = tree_cpu(daemon.proc.pid)
            time.sleep(IDLE_S)
            idle_per_s = cpu_since(daemon.proc.pid, cpu0) / IDLE_S
            capped = []
            for run in range(runs):
                capped.append(daemon_run(daemon, admin, staging, folder, size, f"capped-{run}"))
                _followed(root)
            _config_with(config, "off")
            daemon.proc.send_signal(1)  # SIGHUP: the cap is lifted without a restart
            time.sleep(2)
            free, slow = [], []
            for run in range(runs):
                free.append(daemon_run(daemon, admin, staging, folder, size, f"free-{run}"))
                _followed(root)
            admin.faults(link_bytes_per_s=rate)
            for run in range(runs):
                slow.append(daemon_run(daemon, admin, staging, folder, size, f"slow-{run}"))
                _followed(root)
            admin.faults(link_bytes_per_s=0.0)
    mb = size / 1e6
    seconds = [mb / r["mb_per_s"] for r in capped]
    return {
        "cap": cap, "cap_bytes_per_s": rate, "size_mb": mb, "runs": runs,
        "capped_mb_per_s": Spread.of([r["mb_per_s"] for r in capped]).as_json(),
        "rate_ratio": Spread.of([r["mb_per_s"] * 1e6 / rate for r in capped]).as_json(),
        "uncapped_mb_per_s": Spread.of([r["mb_per_s"] for r in free]).as_json(),
        "idle_cpu_s_per_s": idle_per_s,
        "capped_cpu_s_per_mb": Spread.of([r["cpu_s"] / mb for r in capped]).as_json(),
        "capped_net_cpu_s_per_mb": Spread.of([(r["cpu_s"] - idle_per_s * s) / mb
                                              for r, s in zip(capped, seconds)]).as_json(),
        "uncapped_cpu_s_per_mb": Spread.of([r["cpu_s"] / mb for r in free]).as_json(),
        "cpu_ratio": Spread.of([(c["cpu_s"] - idle_per_s * s) / f["cpu_s"]
                                for c, f, s in zip(capped, free, seconds)]).as_json(),
        "raw_cpu_ratio": Spread.of([c["cpu_s"] / f["cpu_s"] for c, f in zip(capped, free)]).as_json(),
        "slow_link_mb_per_s": Spread.of([r["mb_per_s"] for r in slow]).as_json(),
        "slow_link_cpu_s_per_mb": Spread.of([r["cpu_s"] / mb for r in slow]).as_json(),
        "cpu_ratio_vs_slow_link": Spread.of([c["cpu_s"] / s["cpu_s"] for c, s in zip(capped, slow)]).as_json(),
    }
