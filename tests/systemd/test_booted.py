"""The units under a real systemd (tests/systemd/machine.py boots one in namespaces): they
start with only the files the install steps create, say READY and STATUS=, upload through the
sandboxed probe helper, reload, are kept alive by the watchdog and killed by it when hung,
stop cleanly, and run side by side. Skipped, with the reason, where the machine cannot boot
a systemd (not root, no cgroup2, no overlayfs)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from tests.conftest import API_KEY, REPO, SECURITY_KEY, api_toml
from tests.e2e.inbox import Inbox
from tests.systemd.machine import Machine

pytestmark = pytest.mark.skipif(Machine.unavailable() is not None, reason=str(Machine.unavailable()))
UNIT = "mavi-sync.service"
VENV = Path(sys.prefix)


def config(url: str, folder: str = "/srv/camera", target: str = "auto", tags: str = "", extra: str = "") -> str:
    """What a user writes in /etc/mavi-sync/config.toml (no [ledger] path: the unit's state dir)."""
    return (api_toml(url) + f'[[folders]]\npath = "{folder}"\ntarget = "{target}"\nsettle_s = 1\n'
            + (f"tags = [{tags}]\n" if tags else "") + "incomplete_grace_s = 2\n" + extra)


@pytest.fixture
def machine(tmp_path: Path, emulator) -> Iterator[Machine]:  # type: ignore[no-untyped-def]
    """Booted with what systemd/README.md's install steps create: the config and the API key."""
    files = {"/etc/mavi-sync/config.toml": config(emulator.url), "/etc/mavi-sync/api-key": API_KEY + "\n",
             f"/etc/systemd/system/{UNIT}": (REPO / "systemd" / UNIT).read_text(),
             "/etc/systemd/system/mavi-sync@.service": (REPO / "systemd" / "mavi-sync@.service").read_text()}
    with Machine(tmp_path / "machine", VENV, files) as booted:
        yield booted


def upload_one(m: Machine, admin: Admin, name: str, folder: Path, before: int = 0, timeout_s: float = 40) -> None:
    shade = sum(name.encode()) % 200  # different names, different pictures: each is new content
    write_image(folder / name, ImageSpec(make="Canon", taken="2024:05:01 10:00:00", color=(shade, 90, 40)))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(admin.uploads()) <= before:
        time.sleep(0.25)
    assert len(admin.uploads()) == before + 1, m.journal(UNIT)[-3000:]


def test_the_service_starts_with_only_the_api_key_and_uploads(machine: Machine, admin: Admin) -> None:
    """No security key (most users have none): it starts, says READY and STATUS=, uploads, and
    `status` from a root shell reads the service's own ledger."""
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    assert machine.show(UNIT, "NRestarts")["NRestarts"] == "0"
    machine.wait_for(UNIT, "StatusText", "*")  # STATUS= came
    upload_one(machine, admin, "IMG_0001.jpg", machine.camera)
    machine.wait_for(UNIT, "StatusText", "*done 1*")
    status = machine.run(*machine.cli, "status", "--json", "--config",
                         "/etc/mavi-sync/config.toml")
    report = json.loads(status.stdout)
    assert report["running"] is True, status.stdout
    assert report["total"] == 1 and report["counts"].get("confirmed") == {"image": 1}, status.stdout
    assert API_KEY not in status.stdout + machine.journal(UNIT)
    pid = machine.show(UNIT, "MainPID")["MainPID"]
    environ = machine.run("cat", f"/proc/{pid}/environ").stdout
    assert API_KEY not in environ and "CREDENTIALS_DIRECTORY=" in environ  # a credential, not a variable
    machine.run("test", "-s", "/var/lib/private/mavi-sync/ledger.sqlite3")  # where systemd/README.md says
    # root's home is the host's here: judge the ledger file the command would have made, not
    # a directory something else on the host may have left there
    private = machine.run("ls", "/root/.local/state/mavi-sync/ledger.sqlite3", check=False)
    assert private.returncode != 0, "a read-only command created a ledger of its own"


def test_a_security_key_file_is_used_when_present(machine: Machine, admin: Admin, emulator) -> None:  # type: ignore[no-untyped-def]
    machine.write("/etc/mavi-sync/security-key", SECURITY_KEY + "\n")
    machine.write("/etc/mavi-sync/config.toml", config(emulator.url, target="security"))
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    from mavi_sync.dev.samples import VideoSpec, write_video
    write_video(machine.camera / "cam1.mp4", VideoSpec(seconds=1))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not admin.uploads("security"):
        time.sleep(0.25)
    assert len(admin.uploads("security")) == 1, machine.journal(UNIT)[-3000:]
    assert SECURITY_KEY not in machine.journal(UNIT)


def test_reload_applies_a_changed_config_without_a_restart(machine: Machine, admin: Admin, emulator) -> None:  # type: ignore[no-untyped-def]
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    pid = machine.show(UNIT, "MainPID")["MainPID"]
    machine.write("/etc/mavi-sync/config.toml", config(emulator.url, tags='"reloaded"'))
    machine.ctl("reload", UNIT)
    time.sleep(1)
    upload_one(machine, admin, "after.jpg", machine.camera)
    [upload] = admin.uploads()
    assert "reloaded" in upload["fields"]["tags"]
    assert machine.show(UNIT, "MainPID")["MainPID"] == pid and machine.show(UNIT, "NRestarts")["NRestarts"] == "0"


def test_the_watchdog_keeps_it_alive_and_kills_it_when_it_hangs(machine: Machine) -> None:
    machine.write(f"/etc/systemd/system/{UNIT}.d/watchdog.conf", "[Service]\nWatchdogSec=3s\nRestartSec=1s\n")
    machine.ctl("daemon-reload")
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    time.sleep(8)  # more than two watchdog periods: the daemon pings
    assert machine.show(UNIT, "ActiveState", "NRestarts") == {"ActiveState": "active", "NRestarts": "0"}
    pid = int(machine.show(UNIT, "MainPID")["MainPID"])
    machine.run("kill", "-STOP", str(pid))  # hung: no more pings
    machine.wait_for(UNIT, "NRestarts", "1", timeout_s=20)
    assert "Watchdog timeout" in machine.journal(UNIT)


def test_a_root_shell_pauses_and_resumes_the_dynamic_user_service(machine: Machine, admin: Admin,
                                                                  emulator) -> None:  # type: ignore[no-untyped-def]
    """`mavi-sync pause` from root reaches the service's dynamic user through its ledger: the
    service holds uploads and says so in STATUS=, the pause outlives a restart, `resume` ends
    it, and every ledger file still belongs to the service (SQLite gives what root creates
    to the database's owner), so it can write after root did. The notification and ping URLs
    come as credentials (systemd/README.md's drop-in) and reach their receiver."""
    inbox = Inbox().__enter__()
    machine.write("/etc/mavi-sync/config.toml", config(emulator.url) + (
        '[[notify.targets]]\nurl = { credential = "mavi-notify-url" }\n'
        '[health]\nping = { credential = "mavi-ping-url" }\ninterval_s = 1\n'))
    machine.write("/etc/mavi-sync/notify-url", f"json://127.0.0.1:{inbox.port}/n\n")
    machine.write("/etc/mavi-sync/ping-url", inbox.url("/ping") + "\n")
    machine.write(f"/etc/systemd/system/{UNIT}.d/notify.conf", "[Service]\n"
                  "LoadCredential=mavi-notify-url:/etc/mavi-sync/notify-url\n"
                  "LoadCredential=mavi-ping-url:/etc/mavi-sync/ping-url\n")
    machine.ctl("daemon-reload")
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    upload_one(machine, admin, "IMG_0010.jpg", machine.camera)
    cli = [*machine.cli]
    paused = machine.run(*cli, "pause", "--config", "/etc/mavi-sync/config.toml")
    assert "the daemon holds uploads" in paused.stdout and "by root" in paused.stdout, paused.stdout
    machine.wait_for(UNIT, "StatusText", "*paused by hand by root*")
    machine.ctl("restart", UNIT)
    machine.wait_for(UNIT, "StatusText", "*paused by hand by root*")
    shade = 77
    write_image(machine.camera / "IMG_0011.jpg", ImageSpec(make="Canon", taken="2024:05:01 10:00:00",
                                                           color=(shade, 90, 40)))
    time.sleep(3)
    assert len(admin.uploads()) == 1, "sent while paused by hand"
    owners = machine.run("sh", "-c", "stat -c '%u %n' /var/lib/private/mavi-sync/ledger.sqlite3*").stdout
    assert all(not line.startswith("0 ") for line in owners.splitlines()), owners
    resumed = machine.run(*cli, "resume", "--config", "/etc/mavi-sync/config.toml")
    assert "the daemon uploads again" in resumed.stdout, resumed.stdout
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(admin.uploads()) < 2:
        time.sleep(0.25)
    assert len(admin.uploads()) == 2, machine.journal(UNIT)[-3000:]
    admin.faults(no_credits=True)
    upload_one_later = ImageSpec(make="Canon", taken="2024:05:01 10:00:00", color=(12, 200, 40))
    write_image(machine.camera / "IMG_0012.jpg", upload_one_later)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not inbox.notices("/n"):
        time.sleep(0.25)
    admin.faults(no_credits=False)
    inbox.__exit__()
    assert [n["title"].split(": ", 1)[1] for n in inbox.notices("/n")][:1] == [
        "uploads paused (the account has no credits left)"], machine.journal(UNIT)[-3000:]
    assert "/ping" in inbox.pings() and f":{inbox.port}/" not in machine.journal(UNIT)


def test_stop_is_clean(machine: Machine) -> None:
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    machine.ctl("stop", UNIT)
    state = machine.show(UNIT, "ActiveState", "Result", "ExecMainStatus")
    assert state == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}, \
        machine.journal(UNIT)[-2000:]


def test_the_service_and_an_instance_run_side_by_side(machine: Machine, admin: Admin, emulator) -> None:  # type: ignore[no-untyped-def]
    machine.write("/etc/mavi-sync/cam2.toml", config(emulator.url, folder="/srv/camera2"))
    machine.write("/etc/mavi-sync/cam2.api-key", API_KEY + "\n")
    machine.ctl("start", "--no-block", UNIT, "mavi-sync@cam2.service")
    machine.wait_for(UNIT, "ActiveState", "active")
    machine.wait_for("mavi-sync@cam2.service", "ActiveState", "active")
    upload_one(machine, admin, "one.jpg", machine.camera)
    upload_one(machine, admin, "two.jpg", machine.camera2, before=1)
    for unit in (UNIT, "mavi-sync@cam2.service"):
        assert machine.show(unit, "NRestarts")["NRestarts"] == "0"
    for ledger in ("/var/lib/private/mavi-sync/ledger.sqlite3", "/var/lib/private/mavi-sync-cam2/ledger.sqlite3"):
        machine.run("test", "-s", ledger)
    status = machine.run(*machine.cli, "status", "--json", "--config", "/etc/mavi-sync/cam2.toml")
    assert json.loads(status.stdout)["counts"] == {"confirmed": {"image": 1}}, status.stdout


def test_an_invalid_config_on_reload_is_refused_and_the_old_one_kept(machine: Machine, admin: Admin,
                                                                     emulator) -> None:  # type: ignore[no-untyped-def]
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    machine.write("/etc/mavi-sync/config.toml", config(emulator.url, extra="max_size_mb = -3\n"))
    machine.ctl("reload", UNIT)
    time.sleep(1)
    journal = machine.journal(UNIT)
    assert "config_reload_failed" in journal and "max_size_mb" in journal, journal[-2000:]
    upload_one(machine, admin, "still-works.jpg", machine.camera)
    assert machine.show(UNIT, "ActiveState", "NRestarts") == {"ActiveState": "active", "NRestarts": "0"}


def test_a_group_reads_the_cameras_and_a_drop_in_lets_it_archive(machine: Machine, admin: Admin, emulator,
                                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """systemd/README.md: SupplementaryGroups= for folders only a group reads;
    ReadWritePaths= for after_upload = "archive"."""
    machine.run("groupadd", "--gid", "4711", "cameras")
    os.chown(machine.camera, 0, 4711)
    machine.camera.chmod(0o770)  # others may not even look
    archive = machine.work / "archive"
    machine.write("/etc/mavi-sync/config.toml", config(
        emulator.url, extra='after_upload = "archive"\narchive_dir = "/srv/archive"\n'))
    machine.run("mkdir", "-p", "/srv/archive")
    machine.run("chown", "0:4711", "/srv/archive")
    machine.run("chmod", "0770", "/srv/archive")
    machine.write(f"/etc/systemd/system/{UNIT}.d/override.conf",
                  "[Service]\nSupplementaryGroups=cameras\nReadWritePaths=/srv/camera /srv/archive\n")
    machine.ctl("daemon-reload")
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    upload_one(machine, admin, "IMG_0002.jpg", machine.camera)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (machine.camera / "IMG_0002.jpg").exists():
        time.sleep(0.25)
    assert not (machine.camera / "IMG_0002.jpg").exists(), machine.journal(UNIT)[-2000:]
    machine.run("test", "-f", "/srv/archive/IMG_0002.jpg")
    del archive, tmp_path


def test_a_folder_under_home_is_read_and_archiving_there_needs_protecthome_no(machine: Machine, admin: Admin,
                                                                            emulator) -> None:  # type: ignore[no-untyped-def]
    """systemd/README.md: folders under /home are readable (ProtectHome=read-only); to
    archive from them, ProtectHome=no as well as ReadWritePaths=."""
    machine.write("/etc/mavi-sync/config.toml", config(
        emulator.url, folder="/home/cams", extra='after_upload = "archive"\narchive_dir = "/home/cams-archive"\n'))
    machine.run("mkdir", "-m", "0777", "-p", "/home/cams-archive")
    machine.ctl("start", "--no-block", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    upload_one(machine, admin, "read.jpg", machine.home)  # read: uploaded
    time.sleep(3)
    assert (machine.home / "read.jpg").exists()  # but not archived: /home is read-only to it
    assert "Read-only file system" in machine.journal(UNIT) or "read-only" in machine.journal(UNIT).lower()
    machine.write(f"/etc/systemd/system/{UNIT}.d/home.conf",
                  "[Service]\nProtectHome=no\nReadWritePaths=/home/cams /home/cams-archive\n")
    machine.ctl("daemon-reload")
    machine.ctl("restart", UNIT)
    machine.wait_for(UNIT, "ActiveState", "active")
    upload_one(machine, admin, "moved.jpg", machine.home, before=1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (machine.home / "moved.jpg").exists():
        time.sleep(0.25)
    machine.run("test", "-f", "/home/cams-archive/moved.jpg")
    lines = [line for line in machine.journal(UNIT).splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line)["event"] for line in lines)  # journald keeps JSON lines
