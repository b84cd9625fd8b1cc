"""What every figure needs: repeated runs summarised as median/min/max, an emulator, the
daemon as a subprocess on a config of our own, and bounded waiting."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

KEY = "sk-mavi-bench-key-not-a-real-one"
CLI = [sys.executable, "-m", "mavi_sync"]


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def as_json(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high}

    def text(self, fmt: str = "{:.3g}") -> str:
        return f"{fmt.format(self.median)} ({fmt.format(self.low)}–{fmt.format(self.high)})"


def until(check: Callable[[], Any], seconds: float, every: float = 0.1) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"gave up after {seconds:g} s")


def config_text(url: str, root: Path, folder: Path, uploads: str = "", folder_extra: str = "",
                log_level: str = "warning", settle_s: float = 1.0) -> str:
    return f"""
log_level = "{log_level}"
[api]
base_url = "{url}"
security_base_url = "{url}"
asset_base_url = "{url}"
[uploads]
status_poll_initial_s = 0.5
status_poll_max_s = 1
{uploads}
[ledger]
path = "{root / 'ledger.sqlite3'}"
[[folders]]
path = "{folder}"
settle_s = {settle_s}
{folder_extra}
"""


@contextmanager
def scratch(prefix: str, url: str, **config: Any) -> Iterator[tuple[Path, Path, Path, Path]]:
    """(root, watched folder, staging folder, config file) in a temporary directory that
    is removed afterwards; `config` goes to config_text."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        folder, staging = root / "cam", root / "staging"
        folder.mkdir()
        staging.mkdir()
        path = root / "config.toml"
        path.write_text(config_text(url, root, folder, **config))
        yield root, folder, staging, path


class DaemonProcess:
    """`mavi-sync run` in a subprocess, its output in a file; stopped with SIGTERM."""

    def __init__(self, config: Path, log: Path, env: Optional[dict[str, str]] = None) -> None:
        self.config = config
        self.log_path = log
        self.env = env
        self.proc: Optional[subprocess.Popen[bytes]] = None

    def start(self, *, prefix: tuple[str, ...] = (), env: Optional[dict[str, str]] = None) -> "DaemonProcess":
        self._log = open(self.log_path, "ab")
        extra = env or self.env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        env.update(extra)
        self.proc = subprocess.Popen([*prefix, *CLI, "run", "--config", str(self.config)],
                                     env={**env, "MAVI_API_KEY": KEY}, stdout=self._log, stderr=self._log)
        return self

    def wait_for(self, check: Callable[[], Any], seconds: float) -> Any:
        """`until`, but a timeout or an early exit shows the end of the daemon's log."""
        def alive_check() -> Any:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with {self.proc.returncode}:\n{self.tail()}")
            return check()
        try:
            return until(alive_check, seconds, 0.2)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; the daemon's log ends:\n{self.tail()}") from None

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> "DaemonProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
