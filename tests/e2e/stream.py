"""A stream of distinct media for all four targets, and the end-of-run audit the
reliability suites share: every file confirmed at the emulator, none lost, duplicates
counted per target, the ledger intact.

Sizes: small in `make test`; MAVI_RELIABILITY=full (`make reliability`) for the figures
docs/design/reliability.md reports.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video

FULL = os.environ.get("MAVI_RELIABILITY") == "full"
TARGETS = ("image", "video", "security", "asset")
# The emulator's record kind for each target.
KIND = {"image": "image", "video": "video", "security": "security", "asset": "asset"}


def scale(small: int, full: int) -> int:
    return full if FULL else small


def folders_toml(root: Path, *, archive: bool = True) -> str:
    """One watched folder per target; videos are archived after confirmation."""
    tables = []
    for target in TARGETS:
        (root / "in" / target).mkdir(parents=True, exist_ok=True)
        extra = f'after_upload = "archive"\narchive_dir = "{root / "archive"}"\n' if target == "video" and archive else ""
        tables.append(f'[[folders]]\npath = "{root / "in" / target}"\ntarget = "{target}"\nsettle_s = 1\n{extra}')
    return "\n".join(tables)


@dataclass
class Stream:
    """Writes file i of the stream into its target's folder (staged, then renamed in, as
    cameras do) and remembers each file's sha256 by target."""

    root: Path
    written: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    count: int = 0

    def add(self, i: int) -> Path:
        target = TARGETS[i % len(TARGETS)]
        stage = self.root / "stage"
        stage.mkdir(exist_ok=True)
        at = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=i)
        if target == "image" or (target == "asset" and i % 8 == 3):
            tmp = write_image(stage / f"f{i:05d}.jpg", ImageSpec(taken=at.strftime("%Y:%m:%d %H:%M:%S")))
        else:
            tmp = write_video(stage / f"f{i:05d}.mp4", VideoSpec(creation_time=at.strftime("%Y-%m-%dT%H:%M:%SZ")))
        self.written[target].add(hashlib.sha256(tmp.read_bytes()).hexdigest())
        final = self.root / "in" / target / tmp.name
        os.replace(tmp, final)
        self.count += 1
        return final


@dataclass
class Audit:
    files: int
    lost: int
    duplicates: dict[str, int]
    ledger_states: dict[str, int]
    integrity: str

    def as_json(self) -> dict[str, Any]:
        return {"files": self.files, "lost": self.lost, "duplicates": self.duplicates,
                "ledger_states": self.ledger_states, "integrity": self.integrity}


def audit(stream: Stream, admin: Admin, ledger_path: Path) -> Audit:
    """What arrived at the emulator against what was written; the ledger's own check."""
    lost = 0
    duplicates: dict[str, int] = {}
    for target in TARGETS:
        arrived = collections.Counter(u["sha256"] for u in admin.uploads(KIND[target]))
        lost += len(stream.written[target] - set(arrived))
        duplicates[target] = sum(n - 1 for sha, n in arrived.items() if sha in stream.written[target])
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
    try:
        states = dict(db.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    return Audit(stream.count, lost, duplicates, states, integrity)


def record_figures(suite: str, **figures: Any) -> None:
    """Append this suite's figures to $MAVI_FIGURES, which `make reliability` prints."""
    target = os.environ.get("MAVI_FIGURES")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps({"suite": suite, "size": "full" if FULL else "small", **figures}) + "\n")
