"""A box for the find/ tests: a watched folder, its config (as a dict and as a TOML file for
the CLI), a real ledger and a client, against the emulator on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.api.follow import PollPolicy
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.pipeline.follower import Follower
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.store import Ledger
from mavi_sync.pipeline.outcome import RetryRules
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.uploader import upload_path
from tests.conftest import API_KEY, SECURITY_KEY, api_table, fast_uploads

POLL = PollPolicy(initial_s=0.05, max_s=0.1, give_up_s=15)
CLI = [sys.executable, "-m", "mavi_sync"]


class Box:
    def __init__(self, url: str, root: Path, *, uploads: Optional[dict[str, Any]] = None,
                 ledger: Optional[dict[str, Any]] = None, **folder: Any) -> None:
        self.root, self.url = root, url
        self.cam = root / "cam"
        self.cam.mkdir(parents=True, exist_ok=True)
        self.ledger_path = root / "ledger.sqlite3"
        self.table = {"api": api_table(url), "uploads": fast_uploads(**(uploads or {})),
                      "ledger": {"path": str(self.ledger_path), **(ledger or {})},
                      "folders": [{"path": str(self.cam), **folder}]}
        self.config = build_config(self.table)
        self.folder = self.config.folders[0]
        self.ledger = Ledger(self.ledger_path)
        self.client = self.new_client()

    def new_client(self, ledger: Optional[Ledger] = None) -> Client:
        return Client.from_config(self.config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")),
                                  folders=ledger or self.ledger)

    def video(self, name: str, seconds: float = 0.4, when: str = "2024-05-01T10:00:00") -> Path:
        path = self.cam / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_video(path, VideoSpec(seconds=seconds, creation_time=when + ".000000Z"))

    def send(self, path: Path) -> FileRecord:
        """Upload and follow to confirmed, as `mavi-sync upload` does."""
        outcome = upload_path(path, self.folder, self.config, self.ledger, self.client)
        assert outcome.record is not None, outcome
        record = Follower(self.ledger, self.client, RetryRules(poll=POLL), clock=time.time,
                          stop=self.client.stop).follow(outcome.record)
        assert record.state is State.CONFIRMED, record
        return record

    def toml(self) -> Path:
        """The config as a file, for the CLI."""
        lines = []
        for name in ("api", "uploads", "ledger"):
            lines.append(f"[{name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in self.table[name].items()]
        for folder in self.table["folders"]:
            lines.append("[[folders]]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in folder.items()]
        path = self.root / "config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args, "--config", str(self.toml())], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "MAVI_API_KEY": API_KEY})

    def close(self) -> None:
        self.client.close()
        self.ledger.close()
