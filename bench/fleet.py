"""Fleet: three nodes on one account. Three daemons, each with its own folder, ledger and
image backlog and each configured with the account's limit, upload to one emulator that
refuses what passes its per-account rate with `0429`. The figure is their accepted rate
between the first and the last request as a share of the limit, and the `0429`s; the
reference, in the same run, is the same three without the shared budget ([fleet] unset:
each paces itself to the full limit).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.harness import KEY, DaemonProcess, Spread, config_text
from bench.rate import UPLOAD_PATH, backlog
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.faults import Faults
from mavi_sync.emulator.runner import EmulatorServer
from tests.pg import PASSWORD, PostgresServer, unavailable

NODES = 3


def _run(per_minute: float, files: int, database: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="mavi-bench-fleet-") as tmp:
        root = Path(tmp)
        faults = Faults(rate_limit_per_minute=per_minute)
        with EmulatorServer(root / "emulator", Settings(api_key=KEY, keep_bytes=False), faults) as server:
            admin = Admin(server.url)
            daemons = []
            for n in range(NODES):
                node = root / f"node{n}"
                node.mkdir()
                backlog(node / "cam", files, offset=n * files)
                fleet = f'[fleet]\ndatabase = "{database}"\nnode = "bench-{n}"\n' if database else ""
                (node / "config.toml").write_text(config_text(
                    server.url, node, node / "cam",
                    uploads=f"rate_limit_per_minute = {per_minute}\nimage_batch_files = 1") + fleet)
                daemons.append(DaemonProcess(node / "config.toml", node / "daemon.log"))
            for d in daemons:
                d.start(env={"MAVI_FLEET_PASSWORD": PASSWORD})
            try:
                daemons[0].wait_for(lambda: len(admin.uploads("image")) >= NODES * files,
                                    NODES * files / per_minute * 60 * 3 + 60)
            finally:
                for d in daemons:
                    d.stop()
            stats = admin.stats()
    times = sorted(e["at"] for e in stats["log"] if e["path"] == UPLOAD_PATH)
    refused = sum(n for answer, n in stats["answers"].items() if "0429" in answer or answer.startswith("429"))
    span = times[-1] - times[0]
    achieved = (len(times) - refused - 1) / span * 60 if span > 0 else 0.0
    return {"share": achieved / per_minute, "refused_0429": refused, "requests": len(times)}


def measure(per_minute: float = 240.0, files: int = 20, runs: int = 3) -> dict[str, Any]:
    reason = unavailable()
    if reason is not None:
        return {"skipped": reason}
    server = PostgresServer().start()
    try:
        shared = [_run(per_minute, files, server.database()) for _ in range(runs)]
        alone = [_run(per_minute, files, "") for _ in range(runs)]
    finally:
        server.stop()
    return {"nodes": NODES, "limit_per_minute": per_minute, "files_per_node": files, "runs": runs,
            "share": Spread.of([r["share"] for r in shared]).as_json(),
            "refused_0429": max(int(r["refused_0429"]) for r in shared),
            "reference_share": Spread.of([r["share"] for r in alone]).as_json(),
            "reference_refused_0429": Spread.of([r["refused_0429"] for r in alone]).as_json()}


def restart(count: int, url: str, runs: int) -> dict[str, Any]:
    """A restart over `count` known files with the ledger in PostgreSQL, against the same
    with the SQLite file, in the same run: the ledger is seeded in SQLite (bench/walk.py),
    copied into the fleet database with `migrate`, and the daemon walks each in turn."""
    from bench.walk import daemon_walk, find_s, seed_ledger, sparse_tree
    from mavi_sync.config.secrets import Secret
    from mavi_sync.fleet.ledger import PostgresLedger
    from mavi_sync.fleet.migrate import migrate
    from mavi_sync.ledger.store import Ledger
    reason = unavailable()
    if reason is not None:
        return {"skipped": reason}
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="mavi-bench-fleet-restart-") as tmp:
            root = Path(tmp)
            folder = root / "nvr"
            sparse_tree(folder, count)
            seed_ledger(root / "ledger.sqlite3", folder, namespace="default")
            database = server.database()
            with Ledger(root / "ledger.sqlite3") as local, \
                    PostgresLedger(database, Secret(PASSWORD, "bench"), "bench", root / "pg" / "ledger.sqlite3") as pg:
                migrate(local, pg)
            fleet = f'[fleet]\ndatabase = "{database}"\nnode = "bench"\n'
            env = {"MAVI_FLEET_PASSWORD": PASSWORD}
            daemon_walk(root, folder, url, 0)  # marks for both: the first walk of each writes them
            daemon_walk(root, folder, url, 100, extra=fleet, env=env)
            sqlite_s, pg_s, finds = [], [], []
            for run in range(1, runs + 1):
                finds.append(find_s(folder))
                sqlite_s.append(daemon_walk(root, folder, url, run)["walk_s"])
                pg_s.append(daemon_walk(root, folder, url, 100 + run, extra=fleet, env=env)["walk_s"])
    finally:
        server.stop()
    return {"files": count, "runs": runs, "sqlite_walk_s": Spread.of(sqlite_s).as_json(),
            "postgresql_walk_s": Spread.of(pg_s).as_json(), "find_s": Spread.of(finds).as_json(),
            "ratio": Spread.of([p / q for p, q in zip(pg_s, sqlite_s)]).as_json()}


def claims(seconds: float = 5.0, rows: int = 20000, runs: int = 3) -> dict[str, Any]:
    """Claims per second by three nodes taking distinct ready rows as fast as they can (each
    a claim and the `started` move, as a worker's attempt begins), the ledger in PostgreSQL,
    against three processes sharing one SQLite file: the ratio in the same run."""
    reason = unavailable()
    if reason is not None:
        return {"skipped": reason}
    server = PostgresServer().start()
    try:
        pg, lite = [], []
        for _ in range(runs):
            pg.append(_claims_run(server.database(), seconds, rows))
            lite.append(_claims_run("", seconds, rows))
    finally:
        server.stop()
    return {"nodes": NODES, "seconds": seconds, "postgresql_per_s": Spread.of(pg).as_json(),
            "sqlite_per_s": Spread.of(lite).as_json(), "ratio": Spread.of([p / q for p, q in zip(pg, lite)]).as_json()}


def _claims_run(database: str, seconds: float, rows: int) -> float:
    import subprocess
    import sys
    with tempfile.TemporaryDirectory(prefix="mavi-bench-claims-") as tmp:
        local = Path(tmp) / "ledger.sqlite3"
        code = (
            "import sys, time\n"
            "from pathlib import Path\n"
            "from mavi_sync.errors import ClaimLost\n"
            "from mavi_sync.ledger.states import State\n"
            "from mavi_sync.ledger.store import Ledger\n"
            "db, local, node, seconds, seed = sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]\n"
            "if db:\n"
            "    from mavi_sync.config.secrets import Secret\n"
            "    from mavi_sync.fleet.ledger import PostgresLedger\n"
            f"    led = PostgresLedger(db, Secret({PASSWORD!r}, 'b'), node, local)\n"
            "else:\n"
            "    led = Ledger(local)\n"
            "if seed == '1':\n"
            f"    for i in range({rows}):\n"
            "        led.add(f'{i:064d}', 'image', 'default', 1)\n"
            "    led.close(); sys.exit(0)\n"
            "ids = [int(r[0]) for r in led._read(\"SELECT id FROM files WHERE state = 'discovered' ORDER BY id\")]\n"
            "done, end, i = 0, time.monotonic() + seconds, int(node[-1])\n"
            "while time.monotonic() < end and i < len(ids):\n"
            "    try:\n"
            "        led.claim(ids[i], (State.DISCOVERED, 0)); led.started(ids[i]); done += 1\n"
            "    except ClaimLost:\n"
            "        pass\n"
            f"    i += {NODES}\n"
            "print(done / seconds)\n")
        args = [sys.executable, "-c", code, database, str(local)]
        subprocess.run([*args, "bench-0", str(seconds), "1"], check=True, timeout=600)
        procs = [subprocess.Popen([*args, f"bench-{n}", str(seconds), "0"], stdout=subprocess.PIPE, text=True)
                 for n in range(NODES)]
        return sum(float(p.communicate(timeout=600)[0]) for p in procs)
