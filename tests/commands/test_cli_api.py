"""status, ledger and retry together, over one failed upload at the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from mavi_sync.dev.samples import VideoSpec, write_video
from tests.commands.cli import config_for, run


def test_status_retry_and_ledger_commands(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    video = write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    admin.faults(error_rate=1.0)
    (tmp_path / "extra.toml").write_text(config.read_text().replace("[uploads]", "[uploads]\nmax_attempts = 1\n"
                                                                   "request_attempts = 1"), encoding="utf-8")
    failed = run("upload", "--config", str(tmp_path / "extra.toml"), str(video), "--no-wait")
    assert failed.returncode == 1 and "failed" in failed.stdout
    status = json.loads(run("status", "--config", str(config), "--json").stdout)
    assert status["counts"] == {"failed": {"video": 1}} and status["running"] is False
    assert "server error" in status["last_errors"][0]["error"]
    listing = run("ledger", "--config", str(config), "--state", "failed")
    assert "failed     video" in listing.stdout and "a.mp4" in listing.stdout
    assert run("retry", "--config", str(config)).returncode == 1  # nothing named: a clear error
    retried = run("retry", "--config", str(config), "--all-failed")
    assert retried.returncode == 0 and "1 file(s) will be tried again" in retried.stdout
    admin.faults(error_rate=0.0)
    assert run("sync", "--config", str(config), "--timeout", "60").returncode == 0
    assert json.loads(run("status", "--config", str(config), "--json").stdout)["counts"] == {"confirmed": {"video": 1}}

