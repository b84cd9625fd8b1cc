"""Find it again, measured (issue 27): `check` over N ledger rows and `recover` over N tagged
videos, each against the query rate limit's floor; `search`'s answer to its first printed
line, against the same request by curl. All in the same run, against one emulator that
holds N processed videos (seeded without uploads: POST /_admin/seed) and allows QUERY_RATE
queries a second, the rate the client is configured with.

- Floor: a listing of N videos takes ceil(N / PAGE_SIZE) list_videos requests; at R a second,
  one slot apart (the client takes no burst), they cannot take less than (requests - 1) / R. The figure is the
  command's wall time (process start to exit: Python, config, ledger and all) over that.
- The ledger for `check` holds the same N videos as confirmed rows (written in bulk, as the
  daemon would have left them); `recover` builds one from nothing.
- Search: the ledger and the server as for `check`; one video holds the words searched. The
  figure is the time from starting `mavi-sync search` to its first line on stdout; curl
  sends the same request to the same server, so the server's own search time is in both;
  `mavi-sync --version` times the interpreter and the CLI's imports, which every command pays.
  What is left is the search's own work: config, ledger, the request, the hits' lookup.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import CLI, KEY, Spread
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.faults import Faults
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.emulator.seed import generated_sha256
from mavi_sync.find.listing import PAGE_SIZE
from mavi_sync.ledger.store import Ledger

QUERY_RATE = 5.0  # the vendor's upper figure for metadata and list requests (1–5 per second)
BURST = 1  # the client's query limiter takes none
PREFIX = "bench"


def _config(root: Path, url: str, ledger: Path) -> Path:
    (root / "cam").mkdir(exist_ok=True)
    path = root / "config.toml"
    path.write_text(f'[api]\nbase_url = "{url}"\nsecurity_base_url = "{url}"\nasset_base_url = "{url}"\n'
                    f'[uploads]\nquery_rate_limit_per_second = {QUERY_RATE}\n[ledger]\npath = "{ledger}"\n'
                    f'[[folders]]\npath = "{root / "cam"}"\ntarget = "video"\n', encoding="utf-8")
    return path


def _ledger(path: Path, first: int, count: int) -> None:
    """N confirmed video rows for the seeded videos VI{first}…, in one transaction."""
    Ledger(path).close()
    now = time.time()
    rows = [(generated_sha256(PREFIX, i), "video", "default", 1000 + i, "confirmed", f"VI{first + i}", "PARSE",
             now, now) for i in range(count)]
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO files (sha256, target, namespace, size, state, remote_id, remote_status, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def _timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "MAVI_API_KEY": KEY})
    return time.perf_counter() - started, done


def _first_line(args: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MAVI_API_KEY": KEY})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    _, err = proc.communicate(timeout=120)
    if not line:
        raise RuntimeError(f"search printed nothing: {err}")
    return elapsed


def _curl(url: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", "/dev/null", "-X", "POST", url + "/serve/api/v1/search", "-H",
                    f"Authorization: {KEY}", "-H", "Content-Type: application/json", "--data", json.dumps(body)],
                   check=True, timeout=120)
    return time.perf_counter() - started


def measure(count: int, runs: int) -> dict[str, Any]:
    requests = math.ceil((count + 1) / PAGE_SIZE)  # (+1: the video the search finds)
    floor = max(0, requests - BURST) / QUERY_RATE
    with tempfile.TemporaryDirectory(prefix="mavi-bench-find-") as tmp:
        root = Path(tmp)
        faults = Faults(query_rate_limit_per_second=QUERY_RATE)
        with EmulatorServer(root / "emulator", Settings(api_key=KEY, keep_bytes=False), faults) as server:
            admin = Admin(server.url, timeout=600)
            seeded = admin.seed(count=count, prefix=PREFIX)
            first = int(str(seeded["first"])[2:])
            [target] = admin.seed([{"filename": "gate.mp4", "tags": [f"sha256:{generated_sha256('gate', 0)}"],
                                    "segments": [{"start": 13, "end": 18, "text": "a delivery van at the gate"}]}])["ids"]
            ledger = root / "ledger.sqlite3"
            _ledger(ledger, first, count)
            config = _config(root, server.url, ledger)
            checks, recovers, searches, curls = [], [], [], []
            for _ in range(runs):
                wall, done = _timed(["check", "--quiet", "--config", str(config)])
                assert done.returncode == 1 and "1 there but unknown here" in done.stdout, done.stdout + done.stderr
                checks.append(wall)
            stats = admin.stats()
            refused = sum(n for answer, n in stats["answers"].items() if "0429" in answer)
            starts = []
            _curl(server.url, {"search_param": "warm"})  # the emulator indexes its videos at its first search
            for _ in range(runs):
                body = {"search_param": "delivery van", "search_type": "BY_CLIP", "top_k": 20}
                curls.append(_curl(server.url, body))
                starts.append(_timed(["--version"])[0])
                searches.append(_first_line(["search", "delivery van", "--config", str(config)]))
            for run in range(runs):
                fresh = root / f"recovered-{run}.sqlite3"
                wall, done = _timed(["recover", "--config", str(_config(root, server.url, fresh))])
                assert done.returncode == 0 and f"recovered {count + 1} video row(s)" in done.stdout, done.stderr
                recovers.append(wall)
            assert target
    return {"videos": count, "runs": runs, "query_rate": QUERY_RATE, "page_size": PAGE_SIZE,
            "requests": requests, "floor_s": floor, "refused_0429": refused,
            "check_s": Spread.of(checks).as_json(), "check_ratio": Spread.of([c / floor for c in checks]).as_json(),
            "recover_s": Spread.of(recovers).as_json(),
            "recover_ratio": Spread.of([r / floor for r in recovers]).as_json(),
            "search_first_line_s": Spread.of(searches).as_json(), "curl_s": Spread.of(curls).as_json(),
            "search_over_curl_s": Spread.of([s - c for s, c in zip(searches, curls)]).as_json(),
            "cli_start_s": Spread.of(starts).as_json(),
            "search_own_s": Spread.of([s - c - v for s, c, v in zip(searches, curls, starts)]).as_json()}


if __name__ == "__main__":
    print(json.dumps(measure(2000, 1), indent=2))
