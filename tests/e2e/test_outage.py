"""The API gone for minutes (the emulator stopped, then started again on its port): the
daemon pauses instead of hammering, says so in `status`, uses up no attempts, and drains
the backlog when the API is back. A counting proxy in front of the emulator counts every
connection the daemon opens, including during the outage."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.engine.pause import OUTAGE_PROBE_S, SILENT_FOR_OUTAGE
from tests.conftest import API_KEY, SECURITY_KEY, fast_timing
from tests.e2e.proxy import CountingProxy
from tests.e2e.rig import Daemon, until
from tests.e2e.stream import Stream, audit, folders_toml, record_figures, scale


def test_an_outage_pauses_uploads_without_a_hot_loop_and_the_backlog_drains(
        spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    outage_s = scale(15, 300)
    settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY, timing=fast_timing(), seed=3)
    server = EmulatorServer(tmp_path / "emulator", settings).start()
    port = server.port
    proxy = CountingProxy(port).start()
    try:
        stream = Stream(tmp_path)
        d = spawn(proxy.url, folders=folders_toml(tmp_path, archive=False))
        for i in range(8):
            stream.add(i)
        d.start()
        until(lambda: d.count("confirmed") == 8, 60, 0.5)

        server.stop()  # the API is gone
        before = proxy.connections
        started = time.monotonic()
        for i in range(8, 8 + scale(12, 40)):  # files keep arriving
            stream.add(i)
        status = until(lambda: (s := d.status()).get("paused") == "outage" and s, 30, 0.5)
        assert status["outage"] and status["outage_since"]
        time.sleep(max(0.0, outage_s - (time.monotonic() - started)))
        during = proxy.connections - before
        failed = d.count("failed")

        server = EmulatorServer(tmp_path / "emulator", settings, port=port).start()  # back, same data
        admin = Admin(server.url)
        until(lambda: d.count("confirmed") == stream.count, scale(60, 400), 0.5)
        assert d.status()["paused"] is None and d.status()["outage"] is None
        assert d.stop() == 0
        result = audit(stream, admin, d.root / "ledger.sqlite3")
        admin.close()
    finally:
        proxy.stop()
        server.stop()
    # What it may cost: the uploads that reveal the outage (SILENT_FOR_OUTAGE, plus one per
    # other worker in flight), then one trial per probe (5 s apart, doubling to 5 min); each
    # upload at most 3 tries, and a video's lookup 3 more. Whatever the backlog.
    trials = math.ceil(math.log2(1 + outage_s / OUTAGE_PROBE_S))
    bound = 6 * (SILENT_FOR_OUTAGE + 1 + trials)
    record_figures("outage", outage_s=outage_s, backlog=stream.count - 8, requests_during_outage=during,
                   bound=bound, failed_during_outage=failed, **result.as_json())
    assert during <= bound, f"{during} connections in {outage_s} s of outage (bound {bound})"
    assert failed == 0
    assert result.lost == 0 and result.duplicates["video"] == 0 and result.integrity == "ok", result
