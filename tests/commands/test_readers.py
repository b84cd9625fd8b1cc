"""The commands that only read the ledger (`status`, `ledger`, `captions`) never create one:
an empty ledger left where the daemon will look would say nothing ran. Where there is none
yet, they say so (docs/guides/by-hand.md, "Reading the ledger")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_status_ledger_and_captions_never_create_a_ledger_and_say_so(tmp_path: Path) -> None:
    ledger = tmp_path / "state" / "ledger.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[ledger]\npath = "{ledger}"\n[[folders]]\npath = "{tmp_path}"\n', encoding="utf-8")
    for command in (["status"], ["status", "--json"], ["ledger"], ["ledger", "--skipped"], ["captions"]):
        done = subprocess.run([sys.executable, "-m", "mavi_sync", *command, "--config", str(config)],
                              capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert done.returncode == 0, (command, done.stderr)
        assert f"no ledger at {ledger} yet" in done.stderr, (command, done.stderr)
        assert not ledger.exists() and not ledger.parent.exists(), command
