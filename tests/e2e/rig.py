"""The daemon as a subprocess, for the end-to-end and reliability tests: started on a
config of its own, its log kept, its status read through `mavi-sync status --json`."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from mavi_sync.dev.samples import VideoSpec, write_video
from tests.conftest import API_KEY, SECURITY_KEY, api_toml

CLI = [sys.executable, "-m", "mavi_sync"]
SYSTEMD_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")


def until(check: Callable[[], Any], seconds: float = 30, every: float = 0.1) -> Any:
    """Poll `check` until it returns something true (bounded); fail with what it last returned."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"gave up after {seconds} s; last: {last!r}")


class Daemon:
    def __init__(self, root: Path, url: str, *, folders: str = "", uploads: str = "", tables: str = "",
                 **folder: Any) -> None:
        """One folder `camera` with `folder` settings, or the [[folders]] tables in `folders`;
        `tables`: more TOML at the end ([notify], [health], [bandwidth]…)."""
        self.root = root
        self.camera = root / "camera"
        self.camera.mkdir(exist_ok=True)
        self.archive = root / "archive"
        self.config = root / "config.toml"
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.write_config(url, folders=folders, uploads=uploads, tables=tables, **folder)

    def write_config(self, url: str, *, folders: str = "", uploads: str = "", tables: str = "", **folder: Any) -> None:
        settings = {"settle_s": 1, "incomplete_grace_s": 2, **folder}  # quick unless a test says otherwise
        extra = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
        folder_tables = folders or f"""[[folders]]
path = "{self.camera}"
{extra}
"""
        self.config.write_text(f"""
log_level = "debug"
{api_toml(url)}{uploads}
request_retry_initial_s = 0.05
retry_initial_s = 0.5
retry_max_s = 1
status_poll_initial_s = 0.2
status_poll_max_s = 0.5
read_timeout_s = 5
shutdown_grace_s = 10
account_probe_s = 2
[ledger]
path = "{self.root / 'ledger.sqlite3'}"
{folder_tables}
{tables}""", encoding="utf-8")

    def start(self, env: Optional[dict[str, str]] = None) -> "Daemon":
        self.env = env or {}  # for the commands that read its ledger too (a fleet's password)
        self.log = open(self.root / "daemon.log", "ab")
        # The test runner may itself run under systemd: its notify variables are not the daemon's.
        inherited = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARIABLES}
        # Output through a pipe, copied to daemon.log by this process: what the daemon writes
        # is never limited by the daemon's own file limits (the full-disk test sets them).
        self.proc = subprocess.Popen([*CLI, "run", "--config", str(self.config)],
                                     env={**inherited, "MAVI_API_KEY": API_KEY, "MAVI_SECURITY_KEY": SECURITY_KEY,
                                          **(env or {})},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._copier = threading.Thread(target=self._copy, args=(self.proc, self.log), daemon=True)
        self._copier.start()
        deadline = time.monotonic() + 30
        # The new process itself must report (after a kill -9 the old heartbeat is still fresh).
        while not ((st := self.status()).get("running") and st.get("pid") == str(self.proc.pid)):
            if self.proc.poll() is not None:
                self._copier.join(5)
                self.log.close()
                raise AssertionError(f"the daemon exited with {self.proc.returncode}; its log ends:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the daemon did not report running within 30 s; its log ends:\n{self.tail()}")
            time.sleep(0.1)
        return self

    @staticmethod
    def _copy(proc: "subprocess.Popen[bytes]", log: Any) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
        proc.stdout.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._copier.join(10)
        self.log.close()
        return code

    def close(self) -> None:
        """Teardown: whatever a failed test left running is killed and its log closed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc is not None:
            self._copier.join(10)
            self.log.close()  # (closing twice is harmless)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    def status(self) -> dict[str, Any]:
        out = subprocess.run([*CLI, "status", "--config", str(self.config), "--json"], capture_output=True,
                             text=True, timeout=30, env={**os.environ, **getattr(self, "env", {})})
        return dict(json.loads(out.stdout)) if out.returncode == 0 else {}

    def ledger_rows(self, *extra: str) -> list[dict[str, Any]]:
        """`mavi-sync ledger --json` rows (up to 1000; `extra` adds options)."""
        out = subprocess.run([*CLI, "ledger", "--config", str(self.config), "--json", "--limit", "1000", *extra],
                             capture_output=True, text=True, timeout=30, env={**os.environ, **getattr(self, "env", {})})
        assert out.returncode == 0, out.stderr
        return list(json.loads(out.stdout))

    def events(self, name: str) -> list[dict[str, Any]]:
        """The daemon's JSON log lines of event `name`, in order."""
        return [json.loads(line) for line in self.logs().splitlines() if f'"event": "{name}"' in line]

    def count(self, state: str) -> int:
        return sum(self.status().get("counts", {}).get(state, {}).values())

    def logs(self) -> str:
        return (self.root / "daemon.log").read_text(encoding="utf-8", errors="replace")


def sha(path: Path | bytes) -> str:
    return hashlib.sha256(path if isinstance(path, bytes) else path.read_bytes()).hexdigest()


def video_bytes(tmp: Path, seconds: float = 2.0, **spec: Any) -> bytes:
    return write_video(tmp / f"v{time.monotonic_ns()}.mp4", VideoSpec(seconds=seconds, **spec)).read_bytes()


