"""The status page's cost to uploads (docs/guides/web.md, "What it costs"): the time and the
daemon's CPU to upload the same files with the page off, with one browser on it (the page
asks for /fragment every 2 s) and under a hard load (4 clients asking for /fragment and
/api/v1/page every 0.5 s, 16 times a page), on a ledger that already holds 100,000 files
(the page's queries grow with it); and the time one build of the page's document takes on
that ledger and on one of 5,000 files. Runs alternate, medians with min and max.

    python -m bench.web                 # 1000 files, 5 runs of each (about 4 minutes on 2 cores)
    python -m bench.web --files 300 --runs 1
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import requests
from PIL import Image

from bench.harness import KEY, DaemonProcess, Spread, scratch
from mavi_sync.config import build_config
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.ledger.store import Ledger
from mavi_sync.engine.snapshot import Counters
from mavi_sync.web.board import Board, Sources

ROWS = 100_000
LOADS = {"off": (0, 0.0), "one page": (1, 2.0), "hard": (4, 0.5)}  # (clients, seconds between their asks)


def big_ledger(path: Path, rows: int = ROWS) -> None:
    """A ledger of `rows` files in three folders nobody watches: 90 % confirmed, the rest pending, failed, refused."""
    Ledger(path).close()
    now, states = time.time(), ["confirmed"] * 90 + ["ready"] * 4 + ["failed"] * 2 + ["rejected"] * 2 + ["uploaded"] * 2
    pick = random.Random(1).choice
    files, paths = [], []
    for i in range(rows):
        state = pick(states)
        files.append((i + 1, f"{i:064x}", "image", "default", 1_000_000 + i, state, 1,
                      "HTTP 500" if state in ("failed", "rejected") else None, now - rows + i, now - rows + i))
        paths.append((f"/old/{i % 3}/{i // 1000}/IMG_{i}.jpg".encode(), i + 1, f"{i:064x}", f"/old/{i % 3}",
                      1_000_000 + i, 0, i, 1, now))
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO files (id, sha256, target, namespace, size, state, attempts, last_error, "
                       "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)", files)
        db.executemany("INSERT INTO paths (path, file_id, sha256, folder, size, mtime_ns, inode, device, seen_at) "
                       "VALUES (?,?,?,?,?,?,?,?,?)", paths)


def build_s(ledger_path: Path) -> float:
    """One build of the page's document on that ledger (the median of 5)."""
    config = build_config({"folders": [{"path": f"/old/{i}"} for i in range(3)]})
    tick = [0.0]
    with Ledger(ledger_path) as ledger:
        board = Board(Sources(Counters(), queue.Queue(), lambda: 0, lambda: None, lambda: None, lambda: config),
                      ledger, tick=lambda: tick[0])
        took = []
        for _ in range(5):
            tick[0] += 1000
            board.document()
            took.append(board.document()["build_ms"] / 1000)
    return sorted(took)[2]


def one_run(url: str, photos: Path, ledger: Path, clients: int, every: float) -> tuple[float, float]:
    """(seconds from the first file to the last confirmed, the daemon's CPU seconds) under `clients`."""
    port = _free_port()
    web = f'[web]\nlisten = "127.0.0.1:{port}"\n' if clients else ""
    with scratch("mavi-bench-web-", url, uploads="concurrency = 2\nimage_batch_files = 1\nrate_limit_per_minute = 60000\nquery_rate_limit_per_second = 1000",
                 settle_s=0.2) as (root, folder, _staging, config):
        config.write_text(config.read_text() + web)
        shutil.copy(ledger, root / "ledger.sqlite3")
        with DaemonProcess(config, root / "daemon.log") as daemon:
            stop = threading.Event()
            threads = [threading.Thread(target=_ask, args=(port, clients, every, stop)) for _ in range(clients)]
            if clients:
                daemon.wait_for(lambda: _answers(port), 30)
            for thread in threads:
                thread.start()
            time.sleep(1)
            started = time.monotonic()
            names = sorted(photos.iterdir())
            for photo in names:
                shutil.copy(photo, folder / photo.name)
            done = _confirmed(ledger) + len(names)
            daemon.wait_for(lambda: _confirmed(root / "ledger.sqlite3") >= done, 600)
            took = time.monotonic() - started
            assert daemon.proc is not None
            stat = Path(f"/proc/{daemon.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            stop.set()
            for thread in threads:
                thread.join()
    return took, cpu


def _ask(port: int, clients: int, every: float, stop: threading.Event) -> None:
    with requests.Session() as http:
        while not stop.is_set():
            http.get(f"http://127.0.0.1:{port}/fragment", timeout=30)
            if clients > 1:
                http.get(f"http://127.0.0.1:{port}/api/v1/page", timeout=30)
            stop.wait(every)


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _confirmed(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM files WHERE state = 'confirmed'").fetchone()[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mavi-bench-web-") as tmp, \
            EmulatorServer(Path(tmp) / "emulator", Settings(api_key=KEY, seed=1)) as emulator:
        ledger, photos = Path(tmp) / "big.sqlite3", Path(tmp) / "photos"
        big_ledger(ledger)
        photos.mkdir()
        for i in range(args.files):
            Image.effect_noise((300, 200), 50 + i % 40).convert("RGB").save(photos / f"IMG_{i:05d}.jpg", quality=90)
        small = Path(tmp) / "small.sqlite3"
        big_ledger(small, 5000)
        print(f"one build of the page's document on 5,000 files: {build_s(small) * 1000:.0f} ms")
        print(f"one build of the page's document on {ROWS:,} files: {build_s(ledger) * 1000:.0f} ms")
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in LOADS}
        for _ in range(args.runs):
            for name, (clients, every) in LOADS.items():
                results[name].append(one_run(emulator.url, photos, ledger, clients, every))
        for name, runs in results.items():
            took, cpu = Spread.of([r[0] for r in runs]), Spread.of([r[1] for r in runs])
            print(f"{name:<9} {args.files} files: {took.text()} s, daemon CPU {cpu.text()} s")


if __name__ == "__main__":
    main()
