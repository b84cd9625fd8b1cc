"""A pause ends within one probe interval (and the check's second) of its cause going away,
whatever the queue holds (issue 23): a trial is a real request, a queued file's upload, or,
when no queued file makes one, the account check (api/account.py) with the key read again.
Before, the trial went to whichever file came first: a refused, known or unfinished file
spent it, and a wrong key corrected by hand left the daemon `PAUSED: bad_key` for good."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Callable

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.engine.pause import OUTAGE_PROBE_S
from mavi_sync.engine.pauses import CHECK_AFTER_S
from tests.conftest import API_KEY, SECURITY_KEY, fast_timing
from tests.e2e.rig import Daemon, until
from tests.e2e.stream import record_figures
from tests.e2e.test_keys import with_key_file

ACCOUNT_PROBE_S = 2.0  # the rig's account_probe_s
LIST = "/serve/api/v1/list_videos"
# The next trial, the check a tick after it, one tick of the scheduler's drift, and a
# `status` run (a process of its own) to see it.
SLACK_S = CHECK_AFTER_S + 1.0 + 1.5


def test_a_corrected_key_ends_the_pause_though_no_queued_file_makes_a_request(
        spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin, tmp_path: Path) -> None:
    d = spawn(emulator.url, incomplete_grace_s=600)  # a cut-short file stays "unfinished" all along
    key_file = tmp_path / "api-key"
    key_file.write_text(API_KEY + "\n")
    key_file.chmod(0o600)
    with_key_file(d, key_file)
    d.start(env={"MAVI_API_KEY": ""})
    first = write_image(d.camera / "a.jpg", ImageSpec(make="Canon"))
    until(lambda: d.count("confirmed") == 1, 30)

    key_file.write_text("sk-mavi-wrong-key-000000\n")  # wrong now, read again at the reload
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)
    until(lambda: d.events("config_reloaded"), 10)
    second = write_image(d.camera / "b.jpg", ImageSpec(make="Nikon"))
    until(lambda: d.status().get("paused") == "bad_key", 20)
    second.unlink()  # the one file that would have made a request
    data = first.read_bytes()
    (d.camera / "copy.jpg").write_bytes(data)  # known content: nothing to send
    (d.camera / "half.jpg").write_bytes(data[: len(data) // 2])  # unfinished: settles again and again
    until(lambda: len(d.events("uploads_probing")) >= 2, 4 * ACCOUNT_PROBE_S + 5)  # trials go by meanwhile
    assert d.status().get("paused") == "bad_key"

    key_file.write_text(API_KEY + "\n")  # corrected by hand; no reload, no restart
    fixed = time.monotonic()
    until(lambda: d.status().get("paused") is None, ACCOUNT_PROBE_S + SLACK_S)
    took = time.monotonic() - fixed
    assert admin.stats()["requests"].get(LIST, 0) >= 1  # the account check asked it
    [resumed] = d.events("uploads_resumed")
    assert resumed["reason"] == "bad_key"
    write_image(d.camera / "c.jpg", ImageSpec(make="Sony"))  # and uploads go again
    until(lambda: d.count("confirmed") == 2, 30)
    assert "sk-mavi-wrong" not in d.logs() and API_KEY not in d.logs()
    assert d.stop() == 0
    assert took <= ACCOUNT_PROBE_S + SLACK_S
    record_figures("a corrected key ends the pause", account_probe_s=ACCOUNT_PROBE_S, took_s=round(took, 1))


def test_an_outage_with_nothing_queued_ends_at_the_next_trial(spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY, timing=fast_timing())
    server = EmulatorServer(tmp_path / "emulator", settings).start()
    port = server.port
    try:
        d = spawn(server.url)
        # The file that meets the outage waits longer than this test for its next attempt:
        # the queue holds nothing while the API comes back.
        d.config.write_text(d.config.read_text().replace("\nretry_initial_s = 0.5\n", "\nretry_initial_s = 300\n")
                            .replace("\nretry_max_s = 1\n", "\nretry_max_s = 300\n"))
        d.start()
        server.stop()
        write_image(d.camera / "a.jpg", ImageSpec(make="Canon"))
        until(lambda: d.status().get("paused") == "outage", 20)
        server = EmulatorServer(tmp_path / "emulator", settings, port=port).start()
        back = time.monotonic()
        until(lambda: (s := d.status()).get("paused") is None and s.get("outage") is None, OUTAGE_PROBE_S + SLACK_S)
        took = time.monotonic() - back
        [recovered] = d.events("api_recovered")
        assert recovered["outage_s"] > 0
        assert d.count("confirmed") == 0  # nothing was queued: the check ended it
        assert d.stop() == 0
    finally:
        server.stop()
    assert took <= OUTAGE_PROBE_S + SLACK_S
    record_figures("an outage with nothing queued ends", first_probe_s=OUTAGE_PROBE_S, took_s=round(took, 1))
