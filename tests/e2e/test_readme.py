"""What a newcomer does first, as README.md says it: `make demo`, and the first config, loaded
from the README itself, run by the daemon against the emulator over real HTTP on 127.0.0.1
until a file is confirmed (README.md, "A first config")."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from tests.conftest import REPO
from tests.e2e.rig import CLI, SYSTEMD_VARIABLES, until

KEY = "sk-mavi-anything"  # the README's: the emulator takes the key it is given


def first_config() -> str:
    """The first ```toml block under README.md's "A first config", exactly as written."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## A first config\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```toml\n(.*?)^```", section, flags=re.S | re.M)[0]


def emulator_port() -> int:
    """The port `mavi-sync emulator` listens on when given none, as its parser says."""
    from mavi_sync.dev.reference import parser
    sub = next(a for a in parser()._actions if a.dest == "command")
    emulator = sub.choices["emulator"]  # type: ignore[attr-defined]
    return int(next(a.default for a in emulator._actions if a.dest == "port"))


def free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_first_config_confirms_a_file_at_the_emulator(tmp_path: Path) -> None:
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    block = first_config()
    assert len(block.splitlines()) <= 16, "the README promises a config of about 15 lines"
    urls = {v for v in tomllib.loads(block)["api"].values()}
    assert urls == {f"http://127.0.0.1:{emulator_port()}"}, "the config must reach `mavi-sync emulator` as started"
    # The port as written, unless something on this machine holds it (a user's emulator):
    # then the same text with another port.
    port = emulator_port() if free(emulator_port()) else 0
    server = EmulatorServer(tmp_path / "emulator", Settings(api_key=KEY), port=port).start()
    block = block.replace(f":{emulator_port()}", f":{server.port}")
    try:
        try_dir = tmp_path / "try"
        (try_dir / "inbox").mkdir(parents=True)  # `mkdir -p try/inbox`
        config = try_dir / "config.toml"
        config.write_text(block, encoding="utf-8")
        env = {**{k: v for k, v in os.environ.items() if k not in SYSTEMD_VARIABLES}, "MAVI_API_KEY": KEY}
        checked = subprocess.run([*CLI, "check-config", str(config)], capture_output=True, text=True, env=env,
                                 timeout=60)
        assert "OK" in checked.stdout, checked.stdout + checked.stderr
        with open(tmp_path / "daemon.log", "wb") as log:
            daemon = subprocess.Popen([*CLI, "run", "--config", str(config)], env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
            try:
                write_image(try_dir / "inbox" / "some-photo.jpg", ImageSpec(taken="2024:05:01 08:00:00"))
                status = [*CLI, "status", "--config", str(config)]
                until(lambda: "confirmed" in subprocess.run(status, capture_output=True, text=True, env=env,
                                                            timeout=30).stdout, 60, 0.5)
            finally:
                daemon.terminate()
                assert daemon.wait(30) == 0, (tmp_path / "daemon.log").read_text()
        admin = Admin(server.url)
        [upload] = admin.uploads("image")
        admin.close()
        assert "first-try" in upload["tags"] and (try_dir / "ledger.sqlite3").is_file()
    finally:
        server.stop()


def test_make_demo_confirms_every_file() -> None:
    """`make demo` (without its install step): exit 0 only once every file it made is confirmed."""
    env = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARIABLES}
    done = subprocess.run([sys.executable, "-m", "mavi_sync.dev.demo"], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "mavi-sync status" in done.stdout and "confirmed" in done.stdout
