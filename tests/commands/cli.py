"""How the command tests run the CLI: a subprocess, as a user runs it, with real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import API_KEY, api_toml

CLI = [sys.executable, "-m", "mavi_sync"]
OFFLINE_KEY = "sk-mavi-CLITESTKEY0123456789abcdef"  # for the commands that never reach a server


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MAVI_API_KEY": API_KEY, **(env or {})})



def config_for(tmp_path: Path, url: str) -> Path:
    (tmp_path / "cam").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(f"""
{api_toml(url)}status_poll_initial_s = 0.1
status_poll_max_s = 0.2
[ledger]
path = "{tmp_path / 'ledger.sqlite3'}"
[[folders]]
path = "{tmp_path / 'cam'}"
tags = ["cli"]
""", encoding="utf-8")
    return path



def run_offline(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`mavi-sync ARGS` with OFFLINE_KEY and its state under `cwd` (or the working directory)."""
    env = {**os.environ, "MAVI_API_KEY": OFFLINE_KEY, "XDG_STATE_HOME": str(cwd or Path.cwd())}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
