"""Three daemons as three nodes of one fleet: one account (the emulator, which refuses
uploads past its per-account rate with `0429`), one PostgreSQL database holding the
account's rate budget. Together they stay under the account's limit (0 `0429`) and use at
least 90 % of it, every file lands once, and `status --fleet` shows the three nodes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.runner import EmulatorServer
from tests.e2e.rig import CLI, Daemon, until
from tests.pg import PASSWORD, PostgresServer

PER_MINUTE = 240.0  # the account's limit, and each node's configured rate_limit_per_minute
FILES = 10  # per node
UPLOAD_PATH = "/serve/api/v1/upload_img"


def backlog(folder: Path, node: int) -> None:
    old = time.time() - 3600  # settled long ago: every node starts with a backlog
    for i in range(FILES):
        path = write_image(folder / f"img{i:03d}.jpg", ImageSpec(taken=f"2024:0{node + 1}:01 10:{i // 60:02d}:{i % 60:02d}"))
        os.utime(path, (old, old))


def test_three_nodes_share_the_accounts_rate_without_a_0429(tmp_path: Path, emulator: EmulatorServer,
                                                            admin: Admin, postgres: PostgresServer) -> None:
    database = postgres.database()
    admin.faults(rate_limit_per_minute=PER_MINUTE)
    nodes = []
    for n in range(3):
        root = tmp_path / f"node{n}"
        root.mkdir()
        d = Daemon(root, emulator.url, uploads="image_batch_files = 1\n",
                   tables=f'[fleet]\ndatabase = "{database}"\nnode = "shop-{n}"\n')
        d.config.write_text(d.config.read_text().replace("rate_limit_per_minute = 6000",
                                                         f"rate_limit_per_minute = {PER_MINUTE}"))
        backlog(d.camera, n)
        nodes.append(d)
    try:
        for d in nodes:
            d.start(env={"MAVI_FLEET_PASSWORD": PASSWORD})
        until(lambda: len(admin.uploads("image")) >= 3 * FILES, 60, 0.5)
        until(lambda: all(d.count("confirmed") == FILES for d in nodes), 30, 0.5)
        fleet = subprocess.run([*CLI, "status", "--fleet", "--json", "--config", str(nodes[0].config)],
                               capture_output=True, text=True, timeout=60, env={**os.environ, "MAVI_FLEET_PASSWORD": PASSWORD})
        for d in nodes:
            assert d.stop() == 0
    finally:
        for d in nodes:
            d.close()
    stats = admin.stats()
    refused = sum(n for answer, n in stats["answers"].items() if "0429" in answer or answer.startswith("429"))
    times = sorted(e["at"] for e in stats["log"] if e["path"] == UPLOAD_PATH)
    shas = [u["sha256"] for u in admin.uploads("image")]
    assert refused == 0, stats["answers"]
    assert len(shas) == len(set(shas)) == 3 * FILES  # every file once
    used = (len(times) - 1) / (times[-1] - times[0]) / (PER_MINUTE / 60)
    assert used >= 0.9, f"the nodes used {used:.0%} of the account's rate"
    rows = json.loads(fleet.stdout)
    assert [(r["node"], r["running"]) for r in rows] == [("shop-0", True), ("shop-1", True), ("shop-2", True)]
    assert all("done" in r["summary"] for r in rows)
    assert PASSWORD not in "".join(d.logs() for d in nodes) + fleet.stdout + fleet.stderr


def test_a_node_whose_database_is_down_uploads_at_its_share_and_says_so(tmp_path: Path, emulator: EmulatorServer,
                                                                        admin: Admin) -> None:
    import socket
    with socket.socket() as s:  # a port where nothing listens: the database is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = Daemon(tmp_path, emulator.url, tables=f'[fleet]\ndatabase = "postgresql://mavi_node@127.0.0.1:{port}/mavi"\n')
    d.start(env={"MAVI_FLEET_PASSWORD": PASSWORD})
    write_image(d.camera / "a.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    until(lambda: d.count("confirmed") == 1, 30)
    assert d.stop() == 0
    [local] = [e for e in d.events("fleet_budget_local") if e["kind"] == "upload"]  # once, however long it is down
    assert f"127.0.0.1:{port}/mavi" in local["error"] and "refused" in local["error"]
    assert PASSWORD not in d.logs()
