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


def test_a_node_that_loses_its_database_waits_and_catches_up_without_duplicates(tmp_path: Path,
                                                                               emulator: EmulatorServer,
                                                                               admin: Admin) -> None:
    """The database stops while the node runs: the ledger cannot be written, so intake waits
    (as for a full disk: nothing is sent that could not be recorded), the daemon keeps
    running, the budget goes local, and when the database is back the files that arrived
    meanwhile are found and sent, once. A node whose database is down at start exits with
    the reason (systemd starts it again: Restart=on-failure)."""
    server = PostgresServer().start()
    try:
        database = server.database()
        d = Daemon(tmp_path, emulator.url, tables=f'[fleet]\ndatabase = "{database}"\nnode = "barn"\n')
        env = {"MAVI_FLEET_PASSWORD": PASSWORD}
        d.start(env=env)
        write_image(d.camera / "before.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
        until(lambda: len(admin.uploads("image")) == 1, 30)
        time.sleep(1.5)  # confirmed and recorded
        server.pause()
        write_image(d.camera / "during.jpg", ImageSpec(taken="2024:01:02 10:00:00"))
        until(lambda: d.events("ledger_unwritable"), 60, 0.5)
        assert d.proc is not None and d.proc.poll() is None  # still running
        assert len(admin.uploads("image")) == 1  # nothing sent that could not be recorded
        server.resume()
        until(lambda: len(admin.uploads("image")) == 2, 90, 0.5)
        until(lambda: d.count("confirmed") == 2, 30, 0.5)
        assert d.stop() == 0
        shas = [u["sha256"] for u in admin.uploads("image")]
        assert len(shas) == len(set(shas)) == 2
        assert PASSWORD not in d.logs()
        server.pause()
        down = subprocess.run([*CLI, "run", "--config", str(d.config)], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **env, "MAVI_API_KEY": "x"})
        assert down.returncode == 1 and "cannot open the fleet ledger" in down.stderr
        assert PASSWORD not in down.stdout + down.stderr
    finally:
        server.stop()


def test_the_same_clip_at_two_sites_is_uploaded_once_and_a_killed_node_loses_nothing(
        tmp_path: Path, emulator: EmulatorServer, admin: Admin, postgres: PostgresServer) -> None:
    """One ledger for the fleet: content is fleet-wide (a clip at two sites is one upload),
    paths are per node; a node killed mid-upload (kill -9) and started again resumes its own
    uploads, looking its videos up first: every content lands, no video twice."""
    from mavi_sync.dev.samples import VideoSpec, write_video
    database = postgres.database()
    admin.faults(latency_s=0.4)  # uploads in flight when the kill comes
    nodes, written = [], set()
    for n in range(3):
        root = tmp_path / f"node{n}"
        root.mkdir()
        d = Daemon(root, emulator.url, tables=f'[fleet]\ndatabase = "{database}"\nnode = "site-{n}"\n')
        for i in range(3):
            clip = write_video(d.camera / f"cam{i}.mp4", VideoSpec(seconds=1 + i, size=(64 + 16 * n, 48)))
            written.add(clip.read_bytes())
        nodes.append(d)
    shared = write_video(tmp_path / "shared.mp4", VideoSpec(seconds=3, size=(96, 96)))
    for d in nodes[:2]:  # the same clip arrives at two sites
        (d.camera / "gate.mp4").write_bytes(shared.read_bytes())
    written.add(shared.read_bytes())
    env = {"MAVI_FLEET_PASSWORD": PASSWORD}
    try:
        for d in nodes:
            d.start(env=env)
        until(lambda: nodes[1].events("upload_succeeded") or nodes[1].count("uploading"), 30, 0.1)
        assert nodes[1].stop(sig=9) == -9  # kill -9, mid-work
        nodes[1].start(env=env)
        until(lambda: len({u["sha256"] for u in admin.uploads("video")}) >= len(written), 60, 0.5)
        until(lambda: nodes[0].count("confirmed") + nodes[1].count("confirmed") + nodes[2].count("confirmed")
              == len(written), 60, 0.5)
        for d in nodes:
            assert d.stop() == 0
    finally:
        for d in nodes:
            d.close()
    import hashlib
    shas = [u["sha256"] for u in admin.uploads("video")]
    assert sorted(set(shas)) == sorted(hashlib.sha256(b).hexdigest() for b in written)  # nothing lost
    twice = {s for s in shas if shas.count(s) > 1}
    assert not twice, (twice, [[e for e in d.events("upload_succeeded") if e["sha256"] in twice] for d in nodes])


def test_a_file_claimed_as_the_database_stops_goes_up_once_it_is_back(tmp_path: Path, emulator: EmulatorServer,
                                                                     admin: Admin) -> None:
    """Issue 23: a file claimed, then waiting for its rate slot, meets the stopped database at
    its body's first byte. Its claim used to stay with the worker (files `ready`, attempts 1,
    never sent, no log line) until a restart; now it is released however the attempt ended,
    and the work cut off is resumed when the database answers again. The outage is said once,
    with what to do about a database (not a disk), and its end once: psycopg's own warning at
    every reconnection try is not passed on."""
    server = PostgresServer().start()
    database = server.database()
    name = database.rsplit("/", 1)[1]
    d = Daemon(tmp_path, emulator.url, uploads="image_batch_files = 1\nconcurrency = 1\n",
               tables=f'[fleet]\ndatabase = "{database}"\nnode = "barn"\n')
    try:
        d.config.write_text(d.config.read_text().replace("rate_limit_per_minute = 6000", "rate_limit_per_minute = 20"))
        d.start(env={"MAVI_FLEET_PASSWORD": PASSWORD})
        for i in range(2):
            write_image(d.camera / f"photo{i}.jpg", ImageSpec(taken=f"2024:03:0{i + 1} 10:00:00"))
        until(lambda: len(admin.uploads("image")) == 1, 30)
        # The second photo: claimed, its slot 3 s after the first's.
        until(lambda: server.sql(name, "SELECT COUNT(*) FROM files WHERE attempts = 1 AND remote_id IS NULL "
                                       "AND state = 'ready'").strip() == "1", 3, 0.02)
        server.pause()
        stopped = time.monotonic()
        until(lambda: d.events("ledger_unwritable"), 30, 0.2)
        assert len(admin.uploads("image")) == 1  # the write failed before the body left
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        server.resume()
        until(lambda: d.count("confirmed") == 2, 60, 0.5)
        until(lambda: d.events("fleet_database_back"), 30, 0.5)
        assert d.stop() == 0
    finally:
        d.close()
        server.stop()
    shas = [u["sha256"] for u in admin.uploads("image")]
    assert len(shas) == len(set(shas)) == 2
    [unwritable] = d.events("ledger_unwritable")
    assert "database" in unwritable["hint"] and "disk" not in unwritable["hint"], unwritable
    assert len(d.events("fleet_database_unreachable")) == 1 and len(d.events("fleet_database_back")) == 1
    local = [e["kind"] for e in d.events("fleet_budget_local")]
    assert len(local) == len(set(local)), local  # once per budget (uploads, queries), not per try
    log = d.logs()
    assert "error connecting" not in log and PASSWORD not in log
