"""Where the file behind a remote id is on this box now: the one lookup `search` (and anything
else that names a server's video to a person) asks.

A hit names a remote id; the ledger's row that holds it names the content; the ledger's
place of that row (`Ledger.place_of`) is its watched path, or where its bytes went (archived
to a destination, deleted after upload, gone), with the path they had. `where_is` is the
only function that reads it for find/.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import Optional

from mavi_sync.ledger.records import GONE_HOW, FileRecord
from mavi_sync.ledger.store import Ledger

# How a place came to be, in words: the ledger's (GONE_HOW), and find/'s own for a row the
# ledger knows no place of (recovered from the server) and for a video that has no row here.
HOW = {**GONE_HOW, "unknown": "no longer on this box", "foreign": "not uploaded from this box"}


@dataclass(frozen=True)
class Where:
    """A place: `how` (a key of HOW), the path there is or was (`path`), and for bytes that
    moved on, the name they had (`was`: the watched path, or the server's name for them)."""

    how: str
    path: Optional[str] = None
    was: Optional[str] = None

    @property
    def playable(self) -> Optional[str]:
        """The local file a player can open: a watched path or an archive copy still there."""
        if self.how in ("watched", "archived") and self.path and os.path.isfile(self.path):
            return self.path
        return None

    def describe(self) -> str:
        """One phrase: the path, or what became of the file and the name it had."""
        if self.how == "watched" and self.path:
            return self.path + ("" if os.path.exists(self.path) else " (not there now)")
        if self.how == "archived" and self.path:
            return f"{self.path} (archived from {self.was})" if self.was else f"{self.path} (archived)"
        name = self.path or self.was
        return f"{HOW.get(self.how, self.how)}" + (f": {name}" if name else "")

    def player(self, start_s: float) -> Optional[str]:
        """A command to paste that plays the file from `start_s` (mpv), when there is a file."""
        path = self.playable
        return f"mpv --start={start_s:g} {shlex.quote(path)}" if path else None

    def as_json(self) -> dict[str, Optional[str]]:
        return {"place": self.how, "path": self.path, "was": self.was}


def where_is(ledger: Ledger, record: Optional[FileRecord], server_name: str = "") -> Where:
    """Where the content of `record` (the row holding a remote id; None when no row does) is
    now. `server_name` is the server's name for the video: the name shown when the ledger
    knows no path any more."""
    if record is None:
        return Where("foreign", None, server_name or None)
    place = ledger.place_of(record.id)
    if place is None:  # a row that never had a path here (recovered from the server)
        return Where("unknown", None, server_name or None)
    return Where(place.how, os.fsdecode(place.path), os.fsdecode(place.was) if place.was is not None else None)
