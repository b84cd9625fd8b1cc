"""Nothing a user can do from the CLI reaches the "this is a bug" path: every command over
files in every state the ledger can hold (confirmed, rejected by the rules, a Live Photo half
held back, failed remotely, unknown, gone), then the daemon over what `retry` put back."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import CLI, Daemon, until
from tests.e2e.test_photos import live_photo

BUG = ("This is a bug", "Traceback", "upload_crashed")


def cli(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert not any(b in out for b in BUG), f"{args}: {out}"
    assert result.returncode in (0, 1), f"{args} exited {result.returncode}: {out}"
    return result


def states(d: Daemon, admin: Admin) -> dict[str, Path]:
    """Files in each state, made by the daemon itself."""
    admin.script({"path": "/serve/api/v1/upload", "action": "fail"})  # the next upload fails remotely
    clip = write_video(d.camera / "clip.mp4", VideoSpec(seconds=1))
    until(lambda: d.count("failed") == 1, 40)
    ok = write_image(d.camera / "ok.jpg", ImageSpec(make="Canon"))
    broken = d.camera / "broken.jpg"
    broken.write_bytes(write_image(d.root / "whole.jpg", ImageSpec(size=(640, 480))).read_bytes()[:900])
    still, motion = live_photo(d.camera, "IMG_0001")
    until(lambda: d.count("confirmed") == 2 and d.count("rejected") == 2 and d.count("failed") == 1, 40)
    return {"confirmed": ok, "rejected": broken, "still": still, "held back": motion, "failed": clip}


def test_every_command_over_every_state_ends_cleanly(spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    d = spawn(emulator.url, live_photos="still")
    d.start()
    files = states(d, admin)
    assert d.stop() == 0
    files["unknown"] = write_image(d.camera / "new.jpg", ImageSpec(make="Nikon"))
    files["gone"] = d.camera / "never-was.jpg"
    config = ["--config", str(d.config)]
    for name in ("status", "ledger"):
        cli(d, name, *config)
        cli(d, name, *config, "--json")
    cli(d, "ledger", *config, "--skipped")
    cli(d, "scan", "--dry-run", *config)
    cli(d, "check-config", str(d.config))
    for what, path in files.items():
        cli(d, "inspect", *config, str(path))
        cli(d, "retry", *config, str(path))
    cli(d, "retry", *config, "--all-failed")
    # What `retry` put back goes through the daemon: refused again with its reason, never a loop.
    d.start()
    until(lambda: d.count("confirmed") >= 4, 40)  # the failed clip and the new photo
    time.sleep(3)
    rows = {Path(r["path"]).name: r for r in d.ledger_rows()}
    assert rows["broken.jpg"]["state"] == "rejected" and "truncated" in rows["broken.jpg"]["error"]
    assert rows["IMG_0001.MOV"]["state"] == "rejected" and "half of the Live Photo" in rows["IMG_0001.MOV"]["error"]
    assert rows["broken.jpg"]["attempts"] <= 1
    assert not any(b in d.logs() for b in BUG)
    assert d.stop() == 0
    for what, path in files.items():  # by hand, last: a person's upload of each
        cli(d, "upload", *config, "--no-wait", str(path))
