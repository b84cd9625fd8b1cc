"""Rate-limit use: a backlog of images against an emulator that allows N uploads a minute.

The daemon is configured with the account's limit (N) and one image per request; the
figure is the accepted upload rate between the first and the last request, as a share of
N, and the number of `0429` answers (which should be zero: the client paces itself).

One more run stops the daemon (SIGSTOP) for STALL_S every STALL_EVERY_S: a host under
load, or a hypervisor taking the CPU. The slots that pass during a stall are spent
together when it ends; the `0429`s of that run show whether the client then leaves the
server's burst room to recover. It is reported, not judged: the stalls are extreme.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from bench.harness import KEY, DaemonProcess, Spread, config_text
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.faults import Faults
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.dev.samples import ImageSpec, write_image

UPLOAD_PATH = "/serve/api/v1/upload_img"
STALL_S, STALL_EVERY_S = 0.35, 1.0


def backlog(folder: Path, count: int, offset: int = 0) -> None:
    folder.mkdir(parents=True)
    old = time.time() - 3600  # settled long ago: the whole backlog is ready at start
    for i in range(offset, offset + count):
        taken = f"2024:01:{1 + i // 3600:02d} {10 + i // 60 % 60 // 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        # A distinct capture time makes distinct bytes (near colours can encode the same).
        path = write_image(folder / f"img{i:05d}.jpg", ImageSpec(taken=taken))
        os.utime(path, (old, old))


@contextmanager
def stalls(proc: Optional["subprocess.Popen[bytes]"], stall_s: float) -> Iterator[None]:
    """Stop `proc` for `stall_s` every STALL_EVERY_S while the block runs (no-op for 0)."""
    done = threading.Event()

    def stall() -> None:
        while proc is not None and not done.wait(STALL_EVERY_S):
            try:
                os.kill(proc.pid, signal.SIGSTOP)
                done.wait(stall_s)
                os.kill(proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                return

    thread = threading.Thread(target=stall, daemon=True) if stall_s > 0 else None
    if thread is not None:
        thread.start()
    try:
        yield
    finally:
        done.set()
        if thread is not None:
            thread.join()
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)


def one_run(per_minute: float, files: int, stall_s: float = 0.0) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="mavi-bench-rate-") as tmp:
        root = Path(tmp)
        backlog(root / "cam", files)
        faults = Faults(rate_limit_per_minute=per_minute)
        with EmulatorServer(root / "emulator", Settings(api_key=KEY, keep_bytes=False), faults) as server:
            config = root / "config.toml"
            config.write_text(config_text(server.url, root, root / "cam",
                                          uploads=f"rate_limit_per_minute = {per_minute}\nimage_batch_files = 1",
                                          log_level=os.environ.get("BENCH_LOG", "warning")))
            admin = Admin(server.url)
            with DaemonProcess(config, root / "daemon.log") as daemon, stalls(daemon.proc, stall_s):
                daemon.wait_for(lambda: len(admin.uploads("image")) >= files, files / per_minute * 60 * 3 + 60)
            stats = admin.stats()
    times = sorted(e["at"] for e in stats["log"] if e["path"] == UPLOAD_PATH)
    refused = sum(n for answer, n in stats["answers"].items() if "0429" in answer or answer.startswith("429"))
    accepted = len(times) - refused
    span = times[-1] - times[0]
    achieved = (accepted - 1) / span * 60 if span > 0 else 0.0
    return {"achieved_per_minute": achieved, "share": achieved / per_minute, "refused_0429": refused,
            "requests": len(times)}


def measure(per_minute: float = 600.0, files: int = 150, runs: int = 3) -> dict[str, Any]:
    results = [one_run(per_minute, files) for _ in range(runs)]
    stalled = one_run(per_minute, files, STALL_S)
    return {"limit_per_minute": per_minute, "files": files, "runs": runs,
            "stalled": {"stall_s": STALL_S, "every_s": STALL_EVERY_S, **stalled},
            "share": Spread.of([r["share"] for r in results]).as_json(),
            "achieved_per_minute": Spread.of([r["achieved_per_minute"] for r in results]).as_json(),
            "refused_0429": max(int(r["refused_0429"]) for r in results)}


if __name__ == "__main__":
    import json
    print(json.dumps(measure(runs=1), indent=2))
