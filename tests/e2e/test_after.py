"""After-upload actions are a duty kept in the ledger: a folder the daemon may not change, an
archive disk that fills up, a kill -9 in between, a confirmation whose duty never got written
(a crash right after it, or a ledger from before duties): each is told once with what to do,
shown by `status` and the metrics, retried with back-off and done in the end, with nothing
lost and nothing sent twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.test_captions import free_port
from tests.e2e.rig import CLI, Daemon, sha, until


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, timeout=30).returncode == 0


@pytest.fixture
def unwritable() -> Iterator[Callable[[Path], Callable[[], None]]]:
    """Make a directory one the daemon cannot change (a read-only bind mount as root, whom
    permissions do not stop; else its mode); returns how to give it back."""
    undo: list[Callable[[], None]] = []

    def make(directory: Path) -> Callable[[], None]:
        if os.geteuid() == 0:
            if not _mount("--bind", str(directory), str(directory)):
                pytest.skip("bind-mounting needs privileges this machine does not give (CAP_SYS_ADMIN)")
            assert _mount("-o", "remount,bind,ro", str(directory))
            back = lambda: subprocess.run(["umount", str(directory)], capture_output=True, timeout=30)  # noqa: E731
        else:
            directory.chmod(0o555)
            back = lambda: directory.chmod(0o755)  # noqa: E731
        undo.append(back)
        return back

    yield make
    for back in undo:
        back()


def archive_daemon(spawn: Callable[..., Daemon], url: str, archive: Path, port: int) -> Daemon:
    return spawn(url, target="video", after_upload="archive", archive_dir=str(archive),
                 tables=f"[metrics]\nport = {port}\n")


def metric(port: int, name: str) -> dict[str, float]:
    """{labels: value} of one metric family as Prometheus reads it."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {line.split(" ")[0][len(name):]: float(line.split(" ")[-1]) for line in text.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")}


def test_a_folder_made_unwritable_holds_the_archive_with_one_clear_line_until_it_is_writable(
        spawn, emulator, admin: Admin, tmp_path: Path, unwritable) -> None:
    archive, port = tmp_path / "archive", free_port()
    d = archive_daemon(spawn, emulator.url, archive, port)
    first, second = d.camera / "a.mp4", d.camera / "b.mp4"
    write_video(first, VideoSpec(seconds=1))
    write_video(second, VideoSpec(seconds=2))
    sums = {first.name: sha(first), second.name: sha(second)}
    writable = unwritable(d.camera)
    d.start()
    until(lambda: len(d.events("after_upload_failed")) == 2, 30)
    until(lambda: d.status()["after"].get("archive", {}).get("oldest", {}).get("attempts", 0) >= 3, 20)
    # One line per file, however often it was tried, saying what to do.
    lines = d.events("after_upload_failed")
    assert sorted(e["path"] for e in lines) == [str(first), str(second)], lines
    assert all("writable" in e["hint"] and e["action"] == "archive" for e in lines), lines
    status = d.status()
    waiting = status["after"]["archive"]
    assert waiting["waiting"] == 2 and waiting["oldest"]["path"] in (str(first), str(second))
    assert waiting["oldest"]["error"]
    text = subprocess.run([*CLI, "status", "--config", str(d.config)], capture_output=True, text=True, timeout=60)
    assert "waiting to archive: 2, oldest " in text.stdout
    assert metric(port, "mavi_sync_after_upload_waiting") == {'{action="archive"}': 2.0, '{action="delete"}': 0.0}
    assert {r["place"] for r in d.ledger_rows()} == {"watched"}  # still where they were
    d.stop(signal.SIGKILL)
    # A crash between a confirmation and its duty's write leaves a confirmed row with no
    # duty (as does a ledger from before duties): the start finds it all the same.
    with sqlite3.connect(d.root / "ledger.sqlite3") as db:
        db.execute("DELETE FROM duties WHERE path = ?", (os.fsencode(second),))
    writable()
    d.start()
    until(lambda: not first.exists() and not second.exists(), 30)
    assert {p.name: sha(p) for p in archive.iterdir()} == sums  # nothing lost, nothing half-copied
    assert len(admin.uploads("video")) == 2  # nothing sent twice
    until(lambda: d.status()["after"] == {}, 10)
    assert metric(port, "mavi_sync_after_upload_waiting") == {'{action="archive"}': 0.0, '{action="delete"}': 0.0}
    assert {(r["place"], r["path"]) for r in d.ledger_rows()} == {("archived", str(archive / n)) for n in sums}
    assert len(d.events("after_upload_failed")) == 2  # none after the restart
    assert d.stop() == 0


def test_an_archive_disk_filling_up_is_told_once_leaves_no_partial_copy_and_catches_up(
        spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(archive)):
        pytest.skip("a small file system for the archive needs root (mount -t tmpfs)")
    try:
        filler = archive / "filler"
        with open(filler, "wb", buffering=0) as f:  # the archive disk is full
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                f.truncate(f.tell() - 8192)  # room for the start of a copy, not for all of it
        d = archive_daemon(spawn, emulator.url, archive, free_port())
        d.start()
        clip = write_video(d.camera / "day1" / "big.mp4", VideoSpec(seconds=4, size=(640, 480), fps=25))
        assert clip.stat().st_size > 16384
        sent = sha(clip)
        until(lambda: d.events("after_upload_failed"), 30)
        until(lambda: d.status()["after"].get("archive", {}).get("oldest", {}).get("attempts", 0) >= 3, 20)
        [line] = d.events("after_upload_failed")
        assert line["path"] == str(clip) and "space" in line["error"] and "free space" in line["hint"], line
        assert sorted(p.name for p in archive.rglob("*") if p.is_file()) == ["filler"]  # the cut copy is gone
        assert clip.exists()
        filler.unlink()  # space again: the next attempt (at most retry_max_s later) goes through
        until(lambda: not clip.exists(), 20)
        assert sha(archive / "day1" / "big.mp4") == sent and len(admin.uploads("video")) == 1
        until(lambda: d.status()["after"] == {}, 10)
        assert len(d.events("after_upload_failed")) == 1 and d.events("file_archived")[-1]["attempt"] >= 3
        assert d.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(archive)], capture_output=True, timeout=30)
