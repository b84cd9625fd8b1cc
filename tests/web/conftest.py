"""A board over a real ledger, a real queue and real counters, as the daemon hands them in."""

from __future__ import annotations

import hashlib
import os
import queue
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from mavi_sync.config import build_config
from mavi_sync.owner.gate import GateState
from mavi_sync.ledger.store import Ledger
from mavi_sync.engine.snapshot import Counters
from mavi_sync.ledger.states import State
from mavi_sync.web.board import Board, Sources


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.cam, self.nvr = tmp / "cam", tmp / "nvr"
        self.cam.mkdir()
        self.nvr.mkdir()
        self.config = build_config({"folders": [{"path": str(self.cam)}, {"path": str(self.nvr)}]})
        self.ledger = Ledger(tmp / "ledger.sqlite3")
        self.queue: "queue.Queue[Path]" = queue.Queue()
        self.counters = Counters()
        self.pause: Optional[tuple[str, str]] = None
        self.gate: Optional[GateState] = None
        self.now = 1_000.0  # monotonic, for the board's builds
        self.board = Board(Sources(self.counters, self.queue, lambda: 3, lambda: self.pause, lambda: self.gate,
                                   lambda: self.config), self.ledger, tick=lambda: self.now)

    def file(self, name: str, size: int, folder: Optional[Path] = None) -> Path:
        path = (folder or self.cam) / name
        path.write_bytes(b"x" * size)
        return path

    def row(self, name: str, size: int, state: State = State.READY, folder: Optional[Path] = None,
            target: str = "image", **fields: Any) -> int:
        path = self.file(name, size, folder)
        sha = hashlib.sha256(os.fsencode(name)).hexdigest()
        record = self.ledger.register(path, path.stat(), str(path.parent), sha, target, "default",
                                      refused=fields.pop("refused", None))
        if state is not record.state or fields:
            record = self.ledger.transition(record.id, state, **fields)
        return record.id

    def document(self) -> dict[str, Any]:
        self.now += 2
        return self.board.document()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.ledger.close()


