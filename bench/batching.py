"""Image batching: a backlog of photos with identical fields (one camera, one burst, the same
tags) against the same backlog sent one per request (`image_batch_files = 1`), in the same
run. The figures are the upload requests each needed and the time from start to the last
one confirmed; with the account's rate limit (about one upload request a second, shared by
all keys) the request count is what a backlog's time is made of."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import KEY, DaemonProcess, Spread, config_text
from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer

UPLOAD_PATH = "/serve/api/v1/upload_img"


def backlog(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    old = time.time() - 3600  # settled long ago: all of it is ready at start
    for i in range(count):  # one burst: the same camera and second, different pictures
        path = write_image(folder / f"IMG_{i:05d}.jpg", ImageSpec(make="Canon", model="EOS R6",
                                                                  taken="2024:05:01 10:00:00", offset="+02:00",
                                                                  color=(i % 256, (i * 7) % 256, (i * 13) % 256)))
        os.utime(path, (old, old))


def one_run(files: int, batch: int, per_minute: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="mavi-bench-batch-") as tmp:
        root = Path(tmp)
        backlog(root / "cam", files)
        with EmulatorServer(root / "emulator", Settings(api_key=KEY, keep_bytes=False)) as server:
            config = root / "config.toml"
            config.write_text(config_text(server.url, root, root / "cam",
                                          uploads=f"rate_limit_per_minute = {per_minute}\nimage_batch_files = {batch}"))
            admin = Admin(server.url)
            started = time.monotonic()
            with DaemonProcess(config, root / "daemon.log") as daemon:
                daemon.wait_for(lambda: len(admin.uploads("image")) >= files, files / per_minute * 60 * 2 + 60)
                seconds = time.monotonic() - started
            requests = admin.stats()["requests"].get(UPLOAD_PATH, 0)
    return {"requests": requests, "seconds": seconds}


def measure(files: int = 100, runs: int = 3, per_minute: float = 60.0) -> dict[str, Any]:
    """`per_minute`: the account's documented pace for uploads (../shared/api/README.md)."""
    ours = [one_run(files, 10, per_minute) for _ in range(runs)]
    alone = [one_run(files, 1, per_minute) for _ in range(runs)]
    return {"files": files, "limit_per_minute": per_minute, "batch": 10,
            "requests": Spread.of([r["requests"] for r in ours]).as_json(),
            "reference_requests": Spread.of([r["requests"] for r in alone]).as_json(),
            "seconds": Spread.of([r["seconds"] for r in ours]).as_json(),
            "reference_seconds": Spread.of([r["seconds"] for r in alone]).as_json(),
            "time_ratio": Spread.of([a["seconds"] / b["seconds"] for a, b in zip(ours, alone)]).as_json()}


if __name__ == "__main__":
    import json
    print(json.dumps(measure(files=30, runs=1), indent=2))
