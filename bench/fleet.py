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
