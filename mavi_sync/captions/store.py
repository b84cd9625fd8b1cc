"""Security captions: what the video-understanding service said about each clip, which is
why an NVR owner sends clips there. Kept in the ledger row's `result` (sync answers at once;
async ones arrive at the callback receiver, receiver.py), listed by `mavi-sync captions`,
and written, when the folder asks, to a text file beside the clip or in a results folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from mavi_sync.config.schema import FolderConfig
from mavi_sync.ledger.records import FileRecord, Place
from mavi_sync.ledger.store import Ledger

SIDECAR_SUFFIX = ".caption.txt"  # never taken for media by intake (intake/filters.py)


def caption_of(record: FileRecord) -> Optional[str]:
    """The caption a security row holds, or None (not one yet, or not a security row)."""
    result = record.result or {}
    text = result.get("text")
    return text if record.target == "security" and isinstance(text, str) else None


@dataclass(frozen=True)
class Caption:
    when: Optional[str]  # the clip's capture time, local ISO
    place: Optional[Place]  # where the clip is now (Ledger.place_of)
    text: str
    remote_id: Optional[str]

    def as_json(self) -> dict[str, Any]:
        where = self.place.as_json() if self.place is not None else {"path": None, "place": None, "was": None}
        return {"time": self.when, **where, "text": self.text, "remote_id": self.remote_id}


def captions(ledger: Ledger, *, folder: Optional[Path] = None, since: Optional[datetime] = None,
             until: Optional[datetime] = None, search: str = "", limit: int = 1000,
             scan: int = 1_000_000) -> list[Caption]:
    """Clips with a caption, newest capture first, filtered by folder (a path prefix: where
    the clip is now, or the watched folder it came from), capture time (naive local times
    compare with the clip's local time) and text (case-insensitive); among the `scan`
    security rows changed last."""
    found = []
    for record in ledger.files(target="security", limit=scan):
        text = caption_of(record)
        if text is None or (search and search.lower() not in text.lower()):
            continue
        when = record.capture_time
        local = datetime.fromisoformat(when).replace(tzinfo=None) if when else None
        if (since and (local is None or local < since)) or (until and (local is None or local > until)):
            continue
        place = ledger.place_of(record.id)
        if folder is not None and (place is None or not any(
                _within(Path(os.fsdecode(p)), folder) for p in (place.path, place.was) if p is not None)):
            continue
        found.append(Caption(when, place, text, record.remote_id))
    found.sort(key=lambda c: c.when or "", reverse=True)
    return found[:limit]


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def sidecar_path(folder: FolderConfig, clip: Path, now_at: Optional[Path]) -> Optional[Path]:
    """Where the folder wants the caption of `clip` (its watched path) written, or None
    (`caption_sidecar`). "beside" means beside the clip where it is now (`now_at`: its
    archive copy; None once deleted after upload); a results folder keeps the watched tree."""
    where = folder.caption_sidecar
    if not where:
        return None
    if where == "beside":
        return now_at.with_name(now_at.name + SIDECAR_SUFFIX) if now_at is not None else None
    try:
        rel = clip.relative_to(folder.path)
    except ValueError:
        rel = Path(clip.name)
    return Path(where) / rel.parent / (rel.name + SIDECAR_SUFFIX)


def write_sidecar(folder: FolderConfig, clip: Path, now_at: Optional[Path], text: str) -> Optional[Path]:
    """Write the caption where the folder wants it (atomically, see sidecar_path); the path,
    or None when it wants none. Raises OSError (the caller logs it: the caption stays in the ledger)."""
    dest = sidecar_path(folder, clip, now_at)
    if dest is None:
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, dest)
    return dest
