"""The units pass `systemd-analyze verify` cleanly and rate 1.3 or better for exposure."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed on this machine")
UNITS = {"mavi-sync.service": "mavi-sync.service", "mavi-sync@.service": "mavi-sync@demo.service"}


def staged(tmp_path: Path, name: str) -> Path:
    """The unit as installed: ExecStart pointing at a real mavi-sync executable (this venv's)."""
    exe = Path(sys.executable).parent / "mavi-sync"
    text = (REPO / "systemd" / name).read_text(encoding="utf-8").replace("/usr/local/bin/mavi-sync", str(exe))
    target = tmp_path / UNITS[name]
    target.write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize("name", sorted(UNITS))
def test_verify_is_clean(tmp_path: Path, name: str) -> None:
    result = subprocess.run([ANALYZE, "verify", str(staged(tmp_path, name))], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


@pytest.mark.parametrize("name", sorted(UNITS))
def test_exposure_is_at_most_1_3(tmp_path: Path, name: str) -> None:
    result = subprocess.run([ANALYZE, "security", "--offline=yes", str(staged(tmp_path, name))],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout[-500:] + result.stderr
    assert float(match.group(1)) <= 1.3, result.stdout


def test_both_units_run_the_daemon_as_notify_with_credentials() -> None:
    for name in UNITS:
        text = (REPO / "systemd" / name).read_text(encoding="utf-8")
        for line in ("Type=notify", "Restart=on-failure", "WatchdogSec=", "StateDirectory=mavi-sync",
                     "ConfigurationDirectory=mavi-sync", "LoadCredential=mavi-api-key:", "DynamicUser=yes"):
            assert line in text, f"{name} lacks {line}"


def test_the_documentation_the_units_name_is_put_there_by_the_install_steps() -> None:
    """`systemctl help mavi-sync` opens what Documentation= names: the install steps in
    systemd/README.md must put each file:// document there."""
    steps = (REPO / "systemd" / "README.md").read_text(encoding="utf-8")
    for name in UNITS:
        text = (REPO / "systemd" / name).read_text(encoding="utf-8")
        [line] = [l for l in text.splitlines() if l.startswith("Documentation=")]
        for uri in line.split("=", 1)[1].split():
            assert uri.startswith("file://"), uri
            path = uri[len("file://"):]
            installed = re.search(rf"install -D -m 0644 (\S+) {re.escape(path)}\b", steps)
            assert installed, f"{name}: nothing in the install steps puts {path} there"
            assert (REPO / installed.group(1)).is_file()
