"""A missing or wrong API key is the account's problem, not the file's and not a bug: the
daemon pauses with the reason, counts no attempt, and reads the key again at each pause trial
and on reload, so a corrected key file resumes uploads without a restart."""

from __future__ import annotations

import signal
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from tests.conftest import API_KEY
from tests.e2e.rig import Daemon, until


def with_key_file(d: Daemon, key_file: Path) -> None:
    text = d.config.read_text()
    d.config.write_text(text.replace("[uploads]", f'[api.key]\nfile = "{key_file}"\n[uploads]', 1))


def test_no_key_pauses_without_counting_attempts_and_a_key_file_resumes(spawn, emulator, admin: Admin,
                                                                        tmp_path: Path) -> None:
    d = spawn(emulator.url)
    key_file = tmp_path / "api-key"
    with_key_file(d, key_file)
    d.start(env={"MAVI_API_KEY": ""})
    write_image(d.camera / "IMG_0001.jpg", ImageSpec(make="Canon"))
    until(lambda: d.status().get("paused") == "no_key", 20)
    assert "no API key found" in (d.status().get("paused_detail") or "")
    [paused] = d.events("uploads_paused")
    assert paused["reason"] == "no_key" and "api-key" in paused["error"]
    assert d.events("upload_crashed") == [] and "a bug" not in d.logs()
    [row] = d.ledger_rows()
    assert row["attempts"] == 0 and row["state"] == "ready", row
    key_file.write_text(API_KEY + "\n")
    key_file.chmod(0o600)
    until(lambda: d.count("confirmed") == 1, 30)  # the next pause trial read the file
    assert d.status().get("paused") is None and len(admin.uploads()) == 1
    assert d.stop() == 0


def test_a_corrected_key_file_is_read_at_the_next_trial_and_on_reload(spawn, emulator, admin: Admin,
                                                                       tmp_path: Path) -> None:
    d = spawn(emulator.url)
    key_file = tmp_path / "api-key"
    key_file.write_text("sk-mavi-wrong-key-000000\n")
    key_file.chmod(0o600)
    with_key_file(d, key_file)
    d.start(env={"MAVI_API_KEY": ""})
    write_image(d.camera / "IMG_0001.jpg", ImageSpec(make="Canon"))
    until(lambda: d.status().get("paused") == "bad_key", 20)
    key_file.write_text(API_KEY + "\n")
    until(lambda: d.count("confirmed") == 1, 30)
    # Wrong again, then right again with a reload: SIGHUP reads it too.
    key_file.write_text("sk-mavi-wrong-key-000000\n")
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)
    until(lambda: d.events("config_reloaded"), 10)
    write_image(d.camera / "IMG_0002.jpg", ImageSpec(make="Nikon"))
    until(lambda: d.status().get("paused") == "bad_key", 20)
    key_file.write_text(API_KEY + "\n")
    d.proc.send_signal(signal.SIGHUP)
    until(lambda: d.count("confirmed") == 2, 30)
    assert "sk-mavi-wrong" not in d.logs() and API_KEY not in d.logs()
    assert d.stop() == 0
