"""A ledger that can no longer be written (a full disk, simulated with a file-size limit
set on the running daemon, so it works without root): intake stops with one clear error,
the daemon keeps running, the ledger is not corrupted, the owner is told once (and pinged
/fail meanwhile), and when space is back everything that arrived meanwhile is uploaded."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import ImageSpec, write_image
from tests.e2e.inbox import Inbox
from tests.e2e.rig import Daemon, until
from tests.e2e.stream import record_figures


def test_a_full_disk_stops_intake_cleanly_and_it_resumes_when_space_is_back(daemon: Daemon, admin: Admin,
                                                                           emulator) -> None:  # type: ignore[no-untyped-def]
    with Inbox() as inbox:
        full_disk(daemon, admin, emulator, inbox)
    assert [n["title"].split(": ", 1)[1] for n in inbox.notices("/n")] == [
        "cannot write its ledger", "ledger writable again"]
    assert "/ping/fail" in inbox.pings() and inbox.pings()[-1] == "/ping"


def full_disk(daemon: Daemon, admin: Admin, emulator, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]
    daemon.write_config(emulator.url, tables=f'[[notify.targets]]\nurl = "json://127.0.0.1:{inbox.port}/n"\n'
                                             f'[health]\nping = "{inbox.url("/ping")}"\ninterval_s = 1\n')
    daemon.start()
    for i in range(2):
        write_image(daemon.camera / f"before{i}.jpg", ImageSpec(taken=f"2024:01:0{i + 1} 10:00:00"))
    until(lambda: daemon.count("confirmed") == 2)
    assert daemon.proc is not None
    ledger = daemon.root / "ledger.sqlite3"
    full = max(p.stat().st_size for p in daemon.root.glob("ledger.sqlite3*")) + 4096
    # The soft limit only: setting it back up later needs no privilege.
    resource.prlimit(daemon.proc.pid, resource.RLIMIT_FSIZE, (full, resource.RLIM_INFINITY))  # "the disk is full"
    for i in range(5):
        write_image(daemon.camera / f"during{i}.jpg", ImageSpec(taken=f"2024:02:0{i + 1} 10:00:00"))
    until(lambda: '"event": "ledger_unwritable"' in daemon.logs(), 60, 0.5)
    assert daemon.proc.poll() is None  # still running
    until(lambda: "/ping/fail" in inbox.pings(), 10)
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    resource.prlimit(daemon.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    until(lambda: daemon.count("confirmed") == 7, 90, 0.5)
    log = daemon.logs()
    assert log.count('"event": "ledger_unwritable"') == 1 and '"event": "ledger_writable_again"' in log
    until(lambda: len(inbox.notices("/n")) == 2 and inbox.pings()[-1] == "/ping", 10)
    shas = [u["sha256"] for u in admin.uploads("image")]
    record_figures("ledger on a full disk", files=7, lost=0, duplicate_images=len(shas) - len(set(shas)))
    assert daemon.stop() == 0


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, timeout=30).returncode == 0


def test_a_ledger_on_a_read_only_disk_is_a_clear_error_and_stays_intact(emulator, spawn: Callable[..., Daemon],
                                                                         tmp_path: Path) -> None:
    """A disk that went read-only (the kernel does that after I/O errors): the daemon does not
    start, says which ledger and why, and the ledger is untouched. (A disk cannot be made
    read-only under open files, so the daemon meets it at start, as after a reboot.)"""
    disk = tmp_path / "state"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)):
        pytest.skip("mounting a tmpfs needs privileges this machine does not give (CAP_SYS_ADMIN)")
    try:
        d = spawn(emulator.url)
        d.config.write_text(d.config.read_text().replace(str(d.root / "ledger.sqlite3"), str(disk / "ledger.sqlite3")))
        d.start()
        write_image(d.camera / "a.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
        until(lambda: d.count("confirmed") == 1)
        assert d.stop() == 0
        assert _mount("-o", "remount,ro", str(disk))
        write_image(d.camera / "b.jpg", ImageSpec(taken="2024:01:02 10:00:00"))
        with pytest.raises(AssertionError, match="exited with 1") as failed:
            d.start()
        assert "ledger" in str(failed.value) and str(disk) in str(failed.value)
        assert _mount("-o", "remount,rw", str(disk))
        db = sqlite3.connect(f"file:{disk / 'ledger.sqlite3'}?mode=ro", uri=True)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        d.start()  # the disk is writable again: b.jpg is found and sent
        until(lambda: d.count("confirmed") == 2, 60, 0.5)
        assert d.stop() == 0
    finally:
        _mount("-o", "remount,rw", str(disk))
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def test_a_file_claimed_as_the_disk_fills_is_sent_once_space_is_back(spawn: Callable[..., Daemon], admin: Admin,
                                                                    emulator) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: a file claimed, then waiting for its rate slot, meets a full disk at its
    body's first byte (the row cannot say `uploading`). Its claim used to stay with the
    worker that made it, and every later claim of the row was refused in silence until a
    restart; now it is released however the attempt ended, and the file goes up once space
    is back (it never left: the write failed before the body did)."""
    d = spawn(emulator.url, uploads="image_batch_files = 1\nconcurrency = 1\n")
    d.config.write_text(d.config.read_text().replace("rate_limit_per_minute = 6000", "rate_limit_per_minute = 20"))
    d.start()
    assert d.proc is not None
    for i in range(2):
        write_image(d.camera / f"photo{i}.jpg", ImageSpec(taken=f"2024:03:0{i + 1} 10:00:00"))
    until(lambda: len(admin.uploads("image")) == 1, 30)
    ledger = d.root / "ledger.sqlite3"

    def claimed_and_waiting() -> bool:  # the second photo: claimed, its slot 3 s after the first's
        db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
        try:
            return db.execute("SELECT COUNT(*) FROM files WHERE attempts = 1 AND remote_id IS NULL "
                              "AND state = 'ready'").fetchone()[0] == 1
        finally:
            db.close()

    until(claimed_and_waiting, 3, 0.02)
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))  # no write succeeds now
    until(lambda: d.events("ledger_unwritable"), 30, 0.2)
    assert len(admin.uploads("image")) == 1  # the write failed before the body left
    resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    until(lambda: d.count("confirmed") == 2, 40, 0.5)
    shas = [u["sha256"] for u in admin.uploads("image")]
    assert len(shas) == len(set(shas)) == 2
    assert d.stop() == 0
