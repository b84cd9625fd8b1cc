"""Security captions can be read: in the `upload_succeeded` event, with `mavi-sync captions`
(filters, --json), in a sidecar file beside the clip or in a results folder; async results
through the callback receiver, which only takes posts carrying its secret."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
from pathlib import Path

import requests

from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.inbox import Inbox
from tests.e2e.rig import CLI, Daemon, until


def security_folder(d: Daemon, extra: str = "", security: str = "") -> str:
    return (f'[[folders]]\npath = "{d.camera}"\ntarget = "security"\nsettle_s = 1\nincomplete_grace_s = 2\n{extra}'
            f'[folders.security]\nuser_prompt = "Who is there?"\n{security}')


def captions(d: Daemon, *args: str) -> list[dict]:
    out = subprocess.run([*CLI, "captions", "--config", str(d.config), "--json", *args], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


def test_a_sync_caption_is_logged_listed_and_written_beside_the_clip(spawn, emulator, admin: Admin) -> None:
    d = spawn(emulator.url)
    d.write_config(emulator.url, folders=security_folder(d, 'caption_sidecar = "beside"\n'),
                   uploads="rescan_interval_s = 1\n")
    d.start()
    clip = write_video(d.camera / "cam1" / "2024-05-01_0800.mp4",
                       VideoSpec(seconds=1, creation_time="2024-05-01T08:00:00.000000Z"))
    until(lambda: d.count("confirmed") == 1, 30)
    [event] = d.events("upload_succeeded")
    assert "Emulated understanding of 2024-05-01_0800.mp4" in event["caption"]
    sidecar = clip.with_name(clip.name + ".caption.txt")
    until(lambda: sidecar.exists(), 10)
    assert sidecar.read_text().strip() == event["caption"]
    [listed] = captions(d)
    assert listed["path"] == str(clip) and listed["text"] == event["caption"] and listed["time"].startswith("2024-05-0")
    assert captions(d, "--search", "EMULATED UNDERSTANDING") == [listed]
    assert captions(d, "--search", "vehicle") == []
    assert captions(d, "--folder", str(d.camera / "cam1")) == [listed]
    assert captions(d, "--folder", str(d.camera / "cam2")) == []
    assert captions(d, "--since", "2024-04-30", "--until", "2024-05-02") == [listed]
    assert captions(d, "--since", "2024-05-02") == []
    text = subprocess.run([*CLI, "captions", "--config", str(d.config)], capture_output=True, text=True, timeout=60)
    assert str(clip) in text.stdout and "Emulated understanding" in text.stdout
    # The sidecar is not media (docs/guides/captions.md "Reading the captions"): neither the
    # watcher's events for it nor the walks make it a candidate, so it is never "unfinished",
    # refused, uploaded or skipped.
    walks = len(d.events("walk_done"))
    until(lambda: len(d.events("walk_done")) >= walks + 3, 15)  # rescans, and past incomplete_grace_s (2 s)
    assert d.status()["skipped"] == 0 and len(admin.uploads()) == 1
    assert [r["path"] for r in d.ledger_rows()] == [str(clip)] and d.status()["last_errors"] == []
    assert f'"path": "{sidecar}"' not in d.logs()  # no event is about it (unfinished, refused, skipped)
    assert d.stop() == 0


def test_an_archived_clip_takes_its_sidecar_along_and_every_read_out_shows_where_it_is(
        spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    d = spawn(emulator.url)
    d.write_config(emulator.url, folders=security_folder(
        d, f'caption_sidecar = "beside"\nafter_upload = "archive"\narchive_dir = "{archive}"\n'))
    d.start()
    clip = write_video(d.camera / "cam1" / "2024-05-01_0800.mp4",
                       VideoSpec(seconds=1, creation_time="2024-05-01T08:00:00.000000Z"))
    sent = clip.read_bytes()
    moved = archive / "cam1" / clip.name
    until(lambda: moved.exists() and not clip.exists(), 30)
    until(lambda: (archive / "cam1" / (clip.name + ".caption.txt")).exists(), 10)
    assert not (d.camera / "cam1" / (clip.name + ".caption.txt")).exists()  # the sidecar followed its clip
    assert moved.read_bytes() == sent and len(admin.uploads()) == 1
    # ledger, captions (also by the folder the clip came from) and status agree: it is in the archive.
    [row] = d.ledger_rows()
    assert (row["path"], row["place"], row["was"]) == (str(moved), "archived", str(clip))
    [listed] = captions(d)
    assert (listed["path"], listed["place"]) == (str(moved), "archived")
    assert captions(d, "--folder", str(d.camera / "cam1")) == [listed] == captions(d, "--folder", str(archive))
    assert captions(d, "--folder", str(d.camera / "cam2")) == []
    text = subprocess.run([*CLI, "ledger", "--config", str(d.config)], capture_output=True, text=True, timeout=60)
    assert f"{moved} (archived)" in text.stdout and "None" not in text.stdout
    text = subprocess.run([*CLI, "captions", "--config", str(d.config)], capture_output=True, text=True, timeout=60)
    assert f"{moved} (archived)" in text.stdout
    status = d.status()
    assert status["after"] == {} and status["last_errors"] == [] and status["oldest_pending"] is None
    assert d.stop() == 0


def test_a_deleted_clip_takes_its_sidecar_along_and_is_shown_as_deleted(spawn, emulator, admin: Admin) -> None:
    d = spawn(emulator.url)
    d.write_config(emulator.url, folders=security_folder(d, 'caption_sidecar = "beside"\nafter_upload = "delete"\n'))
    d.start()
    clip = write_video(d.camera / "gate.mp4", VideoSpec(seconds=1))
    until(lambda: d.count("confirmed") == 1 and not clip.exists(), 30)
    until(lambda: not (d.camera / "gate.mp4.caption.txt").exists(), 10)
    assert list(d.camera.iterdir()) == [] and len(admin.uploads()) == 1
    [row] = d.ledger_rows()
    assert (row["path"], row["place"]) == (str(clip), "deleted")
    [listed] = captions(d)
    assert (listed["path"], listed["place"]) == (str(clip), "deleted")
    assert captions(d, "--folder", str(d.camera)) == [listed]
    text = subprocess.run([*CLI, "ledger", "--config", str(d.config)], capture_output=True, text=True, timeout=60)
    assert f"{clip} (deleted after upload)" in text.stdout
    assert d.stop() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_async_results_arrive_at_the_receiver_and_land_in_the_results_folder(spawn, emulator, admin: Admin,
                                                                           tmp_path: Path) -> None:
    with Inbox() as inbox:
        async_results(spawn, emulator, admin, tmp_path, inbox)
    # A caption that came later, through the receiver, is told like one in the answer
    # (docs/guides/captions.md, "Reading the captions").
    [notice] = inbox.notices("/n")
    assert notice["title"].endswith("motion in motion.mp4") and "Emulated understanding of motion.mp4" in notice["message"]


def async_results(spawn, emulator, admin: Admin, tmp_path: Path, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    results = tmp_path / "captions"
    d = spawn(emulator.url)
    d.write_config(emulator.url, folders=security_folder(d, f'caption_sidecar = "{results}"\n', 'mode = "async"\n')
                   + f'[receiver]\nlisten = "127.0.0.1:{port}"\npublic_url = "http://127.0.0.1:{port}/hook"\n'
                   + f'[notify]\ncaption_words = ["motion"]\n[[notify.targets]]\n'
                   f'url = "json://127.0.0.1:{inbox.port}/n"\nevents = ["caption"]\n')
    d.start()
    clip = write_video(d.camera / "gate" / "motion.mp4", VideoSpec(seconds=1))
    until(lambda: d.events("caption_received"), 30)
    [event] = d.events("caption_received")
    assert event["path"] == str(clip) and "Emulated understanding of motion.mp4" in event["caption"]
    sidecar = results / "gate" / "motion.mp4.caption.txt"
    assert event["sidecar"] == str(sidecar) and sidecar.read_text().strip() == event["caption"]
    [listed] = captions(d)
    assert listed["text"] == event["caption"]
    secret = sqlite3.connect(d.root / "ledger.sqlite3").execute(
        "SELECT value FROM daemon WHERE key = 'callback_secret'").fetchone()[0]
    [sent] = admin.uploads("security")
    assert sent["fields"]["req"]["callback"] == f"http://127.0.0.1:{port}/hook/security/{secret}"
    assert secret not in d.logs()
    # Anyone else's post is refused and changes nothing.
    forged = {"status": 0, "task_id": listed["remote_id"], "data": {"text": "forged"}}
    assert requests.post(f"http://127.0.0.1:{port}/security/wrong-secret", json=forged, timeout=10).status_code == 404
    assert requests.post(f"http://127.0.0.1:{port}/security/{secret}", data=b"{not json", timeout=10).status_code == 400
    assert captions(d)[0]["text"] == event["caption"]
    until(lambda: inbox.notices("/n"), 10)
    assert d.stop() == 0
