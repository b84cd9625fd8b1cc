"""The daemon as a subprocess against the emulator over real HTTP, on real folders."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import ImageSpec, write_image
from tests.conftest import API_KEY
from tests.e2e.rig import CLI, Daemon, sha, until, video_bytes


def test_files_written_slowly_are_uploaded_once_and_complete(daemon: Daemon, admin: Admin, tmp_path: Path) -> None:
    daemon.start()
    data = video_bytes(tmp_path, seconds=4)
    target = daemon.camera / "slow.mp4"
    with open(target, "wb") as out:  # an NVR writing in chunks, slower than the settle time
        step = len(data) // 6 + 1
        for i in range(0, len(data), step):
            out.write(data[i:i + step])
            out.flush()
            time.sleep(0.4)
    until(lambda: daemon.count("confirmed") == 1)
    time.sleep(1.5)  # any second (partial) upload would show by now
    [video] = admin.uploads("video")
    assert video["sha256"] == sha(data) and video["size"] == len(data)
    assert daemon.stop() == 0


def test_media_is_read_in_a_helper_process_not_the_daemon(daemon: Daemon, admin: Admin, tmp_path: Path) -> None:
    """FFmpeg and Pillow are never mapped into the long-lived daemon: a helper reads the files."""
    daemon.start()
    (daemon.camera / "clip.mp4").write_bytes(video_bytes(tmp_path))
    write_image(daemon.camera / "photo.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    until(lambda: daemon.count("confirmed") == 2)
    assert daemon.proc is not None
    pid = daemon.proc.pid
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "libavcodec" not in maps and "_imaging" not in maps
    helpers = [c for c in _children(pid) if b"mavi_sync.media.prober" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert len(helpers) == 1  # still there: it leaves after 10 s without work
    assert "libavcodec" in Path(f"/proc/{helpers[0]}/maps").read_text()
    assert daemon.stop() == 0
    assert not any(Path(f"/proc/{c}").exists() for c in helpers)  # it went with the daemon


def _children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
            for c in (task / "children").read_text().split()]


def test_renames_and_copies_are_not_uploaded_again(daemon: Daemon, admin: Admin, tmp_path: Path) -> None:
    daemon.start()
    original = daemon.camera / "a.jpg"
    write_image(original, ImageSpec(taken="2024:01:01 10:00:00"))
    until(lambda: daemon.count("confirmed") == 1)
    original.rename(daemon.camera / "renamed.jpg")

    def ledger_names() -> list[str]:
        return sorted(Path(r["path"]).name for r in daemon.ledger_rows())
    # A rename changes the file's ctime: it settles like any change (no new upload), and the
    # ledger follows it to the new name before the copy below becomes the newest path.
    until(lambda: ledger_names() == ["renamed.jpg"])
    (daemon.camera / "sub").mkdir()
    (daemon.camera / "sub" / "copy.jpg").write_bytes((daemon.camera / "renamed.jpg").read_bytes())
    part = daemon.camera / "new.mp4.part"  # a temp name renamed into place counts as new
    part.write_bytes(video_bytes(tmp_path))
    part.rename(daemon.camera / "new.mp4")
    until(lambda: len(admin.uploads("video")) == 1)
    time.sleep(2.5)  # settle time + a margin for a duplicate to show
    assert len(admin.uploads("image")) == 1 and len(admin.uploads("video")) == 1
    assert ledger_names() == ["copy.jpg", "new.mp4"]
    assert daemon.stop() == 0


def test_a_restart_uploads_what_arrived_while_down_and_nothing_twice(daemon: Daemon, admin: Admin,
                                                                     tmp_path: Path) -> None:
    write_image(daemon.camera / "before.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    daemon.start()
    until(lambda: daemon.count("confirmed") == 1)
    assert daemon.stop() == 0
    write_image(daemon.camera / "while-down.jpg", ImageSpec(taken="2024:01:02 10:00:00", color=(9, 9, 9)))
    (daemon.camera / "v.mp4").write_bytes(video_bytes(tmp_path))
    old = time.time() - 3600  # written an hour ago: settled already
    for p in daemon.camera.iterdir():
        os.utime(p, (old, old))
    daemon.start()
    until(lambda: daemon.count("confirmed") == 3)
    assert len(admin.uploads("image")) == 2 and len(admin.uploads("video")) == 1
    assert daemon.stop() == 0


def test_sigterm_mid_upload_lets_it_finish(daemon: Daemon, admin: Admin, tmp_path: Path) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "latency", "value": 2.0})
    daemon.start()
    (daemon.camera / "v.mp4").write_bytes(video_bytes(tmp_path))
    until(lambda: admin.stats()["in_flight"] == 1, 20, 0.05)
    assert daemon.stop() == 0
    assert "uploads_cut_off" not in daemon.logs()
    assert len(admin.uploads("video")) == 1
    status = daemon.status()
    assert sum(status["counts"].get("uploaded", {}).values()) + sum(status["counts"].get("confirmed", {}).values()) == 1


def test_an_upload_cut_off_by_kill_is_resumed_without_a_duplicate(daemon: Daemon, admin: Admin,
                                                                  tmp_path: Path) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "hang"})  # stored, never answered
    daemon.start()
    (daemon.camera / "v.mp4").write_bytes(video_bytes(tmp_path))
    until(lambda: len(admin.uploads("video")) == 1, 20)
    daemon.stop(signal.SIGKILL)  # the ledger says `uploading`; the server has it
    daemon.start()
    until(lambda: daemon.count("confirmed") == 1)
    assert len(admin.uploads("video")) == 1
    assert '"adopted": true' in daemon.logs()
    assert daemon.stop() == 0


def test_a_second_signal_stops_at_once_and_the_upload_is_resumed(daemon: Daemon, admin: Admin,
                                                                   tmp_path: Path) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "hang"})  # the grace period (10 s) would run out
    daemon.start()
    (daemon.camera / "v.mp4").write_bytes(video_bytes(tmp_path))
    until(lambda: len(admin.uploads("video")) == 1, 20)
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGTERM)
    until(lambda: '"event": "daemon_stopping"' in daemon.logs(), 10)
    assert daemon.proc.poll() is None  # still waiting for the upload in flight
    assert daemon.stop(signal.SIGINT) == 130  # the second signal: no more waiting
    assert '"event": "stopping_now"' in daemon.logs() and '"event": "daemon_stopped"' not in daemon.logs()
    daemon.start()  # what was cut off is looked up first, then adopted: not sent twice
    until(lambda: daemon.count("confirmed") == 1)
    assert len(admin.uploads("video")) == 1
    assert daemon.stop() == 0


def test_archive_happens_only_after_confirmation(emulator, spawn: Callable[..., Daemon], admin: Admin,
                                                 tmp_path: Path) -> None:
    d = spawn(emulator.url, after_upload="archive", archive_dir=str(tmp_path / "archive"))
    (d.camera / "day1").mkdir()
    d.start()
    try:
        clip = d.camera / "day1" / "clip.mp4"
        clip.write_bytes(video_bytes(tmp_path))
        until(lambda: (tmp_path / "archive" / "day1" / "clip.mp4").exists())
        assert not clip.exists() and d.count("confirmed") == 1
        assert '"event": "file_archived"' in d.logs()
        assert d.logs().index('"status": "PARSE"') < d.logs().index('"event": "file_archived"')
    finally:
        d.stop()


def test_delete_waits_for_confirmation_and_spares_a_changed_file(spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    from dataclasses import replace

    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    from tests.conftest import fast_timing
    slow_parse = Settings(api_key=API_KEY, timing=replace(fast_timing(), parse_delay_s=4.0))
    with EmulatorServer(tmp_path / "emulator", slow_parse) as server:
        d = spawn(server.url, after_upload="delete")
        d.start()
        try:
            photo = d.camera / "photo.jpg"  # an image id is final: deleted once the answer is in
            write_image(photo, ImageSpec(taken="2024:01:01 10:00:00"))
            until(lambda: not photo.exists())
            video = d.camera / "v.mp4"
            video.write_bytes(video_bytes(tmp_path))
            until(lambda: d.count("uploaded") == 1, 20, 0.05)
            assert video.exists()  # UNPARSE: not confirmed yet, so not deleted
            first = sha(video)
            with open(video, "ab") as f:  # changed after upload: a new version, not what the server holds
                f.write(b"appended")
            until(lambda: not video.exists(), 30)
            # The first version's PARSE deleted nothing: the path held other content by then.
            # The new version was uploaded, confirmed, and only then deleted.
            versions = {u["sha256"] for u in admin_uploads(server.url, "video")}
            assert first in versions and len(versions) == 2
            log = d.logs()
            assert log.rindex('"status": "PARSE"') < log.rindex('"event": "file_deleted"')
        finally:
            d.stop()


def admin_uploads(url: str, kind: str) -> list[dict[str, Any]]:
    return Admin(url).uploads(kind)


def test_a_folder_forced_to_poll_works(emulator, spawn: Callable[..., Daemon], admin: Admin) -> None:
    d = spawn(emulator.url, watch="poll")
    d.start()
    try:
        assert '"watch": {"' + str(d.camera) + '": "poll"}' in d.logs()
        write_image(d.camera / "p.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
        until(lambda: d.count("confirmed") == 1, 30)
    finally:
        d.stop()


def test_account_errors_pause_everything_and_resume(daemon: Daemon, admin: Admin, tmp_path: Path) -> None:
    admin.faults(no_credits=True)
    daemon.start()
    write_image(daemon.camera / "a.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    status = until(lambda: (s := daemon.status()).get("paused") and s)
    assert status["paused"] == "no_credits" and daemon.count("failed") == 0
    assert "PAUSED: no_credits" in subprocess.run([*CLI, "status", "--config", str(daemon.config)],
                                                 capture_output=True, text=True, timeout=30).stdout
    assert daemon.logs().count('"event": "uploads_paused"') == 1
    admin.faults(no_credits=False)  # topped up: the next probe lets uploads through again
    until(lambda: daemon.count("confirmed") == 1, 30)
    assert not daemon.status()["paused"] and daemon.count("failed") == 0
    assert daemon.stop() == 0


def test_systemd_notify_and_an_invalid_reload(daemon: Daemon, admin: Admin, tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(20)
        daemon.start(env={"NOTIFY_SOCKET": path})
        first = sock.recv(4096).decode()
        assert first.startswith("READY=1\nSTATUS=queued ")
        daemon.config.write_text(daemon.config.read_text() + "\nnot valid toml ][\n")
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        until(lambda: "config_reload_failed" in daemon.logs(), 10)
        write_image(daemon.camera / "after-reload.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
        until(lambda: len(admin.uploads("image")) == 1)  # the old config is still in force
        messages = []
        daemon.proc.send_signal(signal.SIGTERM)
        while True:
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                break
            if messages[-1].startswith("STOPPING=1"):
                break
        assert daemon.stop(0) == 0  # signal 0: already stopping; wait for it and close its log
    assert any(m.startswith("STOPPING=1") for m in messages)


def test_a_valid_reload_applies_the_new_folders_and_names_what_needs_a_restart(emulator, spawn: Callable[..., Daemon],
                                                                              admin: Admin, tmp_path: Path) -> None:
    d = spawn(emulator.url)
    d.start()
    until(lambda: "walk_done" in d.logs(), 20)
    second = tmp_path / "second"
    second.mkdir()
    # Two keys read at start, one read live, and a second folder.
    d.write_config(emulator.url, uploads="concurrency = 3\nimage_batch_files = 2\nfailed_cooldown_s = 100", folders=f"""
[[folders]]
path = "{d.camera}"
settle_s = 1
[[folders]]
path = "{second}"
settle_s = 1
""")
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)
    until(lambda: "config_reloaded" in d.logs(), 10)
    write_image(second / "new-folder.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    until(lambda: len(admin.uploads("image")) == 1)  # the folder added by the reload is synced
    partial = [line for line in d.logs().splitlines() if "config_reload_partial" in line]
    assert len(partial) == 1
    named = json.loads(partial[0])["after_restart"]
    assert named == ["uploads.concurrency", "uploads.image_batch_files"]
    assert d.stop() == 0


def test_prometheus_metrics_on_localhost(emulator, spawn: Callable[..., Daemon], admin: Admin) -> None:
    import requests
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = spawn(emulator.url)
    d.config.write_text(d.config.read_text().replace("[ledger]", f"[metrics]\nport = {port}\n[ledger]"))
    admin.script({"path": "/serve/api/v1/upload_img", "action": "error"})  # one retry to count
    d.start()
    try:
        write_image(d.camera / "m.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
        until(lambda: d.count("confirmed") == 1)
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        d.stop()
    assert 'mavi_sync_files{state="confirmed",target="image"} 1.0' in text
    assert "mavi_sync_uploads_total 1.0" in text and "mavi_sync_retries_total 1.0" in text
    assert "mavi_sync_upload_duration_seconds_count 1.0" in text
    for name in ("mavi_sync_uploaded_bytes_total", "mavi_sync_rate_limit_waits_total", "mavi_sync_queue_depth",
                 "mavi_sync_uploads_in_flight", "mavi_sync_paused"):
        assert name in text
