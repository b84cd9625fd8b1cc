"""docs/guides/systemd.md "Reload, stop and signals": a file of a folder dropped from the config
that was not sent yet is forgotten by the ledger (never touched on disk), and found again by
the walk if the folder comes back. Also one whose request was cut off midway: no row is left
without a place, and it is not sent twice."""

from __future__ import annotations

import signal
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import Daemon, sha, until


def folders(d: Daemon, *dirs: Path) -> str:
    return "".join(f'[[folders]]\npath = "{p}"\ntarget = "auto"\nsettle_s = 1\nincomplete_grace_s = 1\n' for p in dirs)


def reload(d: Daemon, url: str, *dirs: Path) -> None:
    done = len(d.events("config_reloaded"))
    d.write_config(url, folders=folders(d, *dirs))
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)
    until(lambda: len(d.events("config_reloaded")) > done, 10)


def test_a_folder_dropped_by_a_reload_leaves_no_unsent_row_and_none_without_a_place(
        spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    other = tmp_path / "other"
    d = spawn(emulator.url)
    d.write_config(emulator.url, folders=folders(d, d.camera, other))
    clip = write_video(other / "cut.mp4", VideoSpec(seconds=1))
    (other / "broken.mp4").write_bytes(b"\0" * 5000)  # refused: never sent
    admin.faults(drop_rate=1.0)  # every body is cut midway: the server may or may not hold it
    d.start()
    until(lambda: any(r["path"] == str(clip) and r["attempts"] >= 2 for r in d.ledger_rows()), 30)
    until(lambda: any(r["path"] == str(other / "broken.mp4") and r["state"] == "rejected" for r in d.ledger_rows()), 20)
    reload(d, emulator.url, d.camera)
    admin.faults(drop_rate=0.0)
    write_image(d.camera / "still-here.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    until(lambda: d.count("confirmed") == 1, 30)
    # (an attempt in flight at the reload ends first: then its row is taken off likewise)
    until(lambda: any(r["path"] == str(clip) and r["state"] == "vanished" for r in d.ledger_rows()), 10)
    rows = d.ledger_rows()
    assert all(r["path"] for r in rows), rows
    assert str(other / "broken.mp4") not in {r["path"] for r in rows}  # never sent: forgotten
    # Cut off midway: perhaps on the server, so its row stays (a later upload looks first),
    # no longer pending, with the place its bytes are and why it waits.
    [kept] = [r for r in rows if r["path"] == str(clip)]
    assert (kept["state"], kept["place"]) == ("vanished", "left"), kept
    status = d.status()
    assert status["oldest_pending"] is None and not status["counts"].get("ready"), status
    assert clip.exists() and (other / "broken.mp4").exists()  # never touched on disk
    # The folder comes back: found again by the walk, and sent once.
    reload(d, emulator.url, d.camera, other)
    until(lambda: any(r["path"] == str(clip) and r["state"] == "confirmed" for r in d.ledger_rows()), 30)
    [video] = admin.uploads("video")
    assert video["sha256"] == sha(clip)
    assert d.stop() == 0
