"""Live Photos: an iPhone writes a still (`IMG_0001.HEIC` or `.JPG`) and its motion half
(`IMG_0001.MOV`, a 2–3 s clip around the shutter) side by side. Sent as they are, the clip
lands as a video of its own, beside the photo.

A still and a QuickTime clip in the same directory are one Live Photo when both carry
Apple's content identifier and it is the same (the still's maker note, tag 0x11; the clip's
`com.apple.quicktime.content.identifier`), whatever their names and times. With the same
base name (the case of the extension may differ) and either lacking the identifier, when
they were taken within PAIR_WINDOW_S of each other (the clip starts about 1.5 s before the
still) and one of them says it was made by Apple. That keeps an NVR's event clip and its
snapshot (`clip.mp4`, `clip.jpg`, written together) from ever being taken for one: the clip
must not be held back. The folder's `live_photos`
decides what is sent: "still" (default: the clip is skipped with the reason), "both" (each
tagged with the pair's tag) or "video" (the still is skipped).
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

STILL_EXTS = (".heic", ".heif", ".jpg", ".jpeg")
MOTION_EXTS = (".mov",)  # iPhones write QuickTime; an .mp4 beside a photo is some other device's clip
PAIR_WINDOW_S = 2.0
POLICIES = ("still", "both", "video")


@dataclass(frozen=True)
class Pair:
    still: Path
    motion: Path

    @property
    def tag(self) -> str:
        """The tag both halves carry when both are sent: the same for both, whichever is read first."""
        key = os.fsencode(self.still.parent / self.still.stem.lower())
        return "live:" + hashlib.sha256(key).hexdigest()[:12]


def half(path: Path) -> Optional[str]:
    """"still" or "motion" when the name could be one half of a Live Photo, else None."""
    ext = path.suffix.lower()
    return "still" if ext in STILL_EXTS else "motion" if ext in MOTION_EXTS else None


def partner_candidates(path: Path, names: list[str]) -> list[Path]:
    """The files in `names` (the directory's) that could be `path`'s other half."""
    mine = half(path)
    if mine is None:
        return []
    wanted = MOTION_EXTS if mine == "still" else STILL_EXTS
    stem = path.stem
    return sorted(path.with_name(n) for n in names
                  if n != path.name and os.path.splitext(n)[0] == stem and os.path.splitext(n)[1].lower() in wanted)


def taken_together(a: Optional[datetime], b: Optional[datetime]) -> bool:
    """Both capture instants known (aware) and within PAIR_WINDOW_S of each other."""
    if a is None or b is None or a.tzinfo is None or b.tzinfo is None:
        return False
    return abs((a - b).total_seconds()) <= PAIR_WINDOW_S


def skipped_half(policy: str, pair: Pair, path: Path) -> Optional[str]:
    """Why `path` is not sent under `policy` (None: it is sent)."""
    if policy == "both":
        return None
    if policy == "still" and path == pair.motion:
        return f"the motion half of the Live Photo {pair.still.name} (live_photos = \"still\")"
    if policy == "video" and path == pair.still:
        return f"the still half of the Live Photo {pair.motion.name} (live_photos = \"video\")"
    return None


@dataclass(frozen=True)
class Half:
    """What pairing needs to know of one file."""

    instant: Optional[datetime]
    make: Optional[str]
    content_id: Optional[str] = None


def find_pair(path: Path, mine: Half, read: Callable[[Path], Half]) -> Optional[Pair]:
    """`path`'s Live Photo pair among the files beside it (see the module's docstring): the
    other half with its base name; else, when `path` carries a content identifier, the other
    half with the same identifier under any name (Photos exports and renaming tools give the
    two halves different names). `read` probes a candidate (the caller's prober)."""
    # The names the other half could have, looked up one by one: listing the directory for
    # every photo of a 5,000-file DCIM folder made a first walk quadratic (24 s of listings).
    names = [n for n in _other_half_names(path) if os.path.lexists(path.with_name(n))]
    for other in partner_candidates(path, names):
        if one_live_photo(mine, read(other)):
            return _pair(path, other)
    if mine.content_id:
        for other in _other_halves_beside(path):
            if other.stem != path.stem and read(other).content_id == mine.content_id:
                return _pair(path, other)
    return None


def _pair(path: Path, other: Path) -> Pair:
    return Pair(path, other) if half(path) == "still" else Pair(other, path)


def _other_halves_beside(path: Path) -> list[Path]:
    """The files in `path`'s directory that could be its other half, whatever their names."""
    try:
        mtime_ns = os.stat(path.parent).st_mtime_ns
    except OSError:
        return []
    wanted = MOTION_EXTS if half(path) == "still" else STILL_EXTS
    return [path.parent / n for n in _listing(os.fspath(path.parent), mtime_ns)
            if os.path.splitext(n)[1].lower() in wanted]


@functools.lru_cache(maxsize=32)
def _listing(directory: str, mtime_ns: int) -> tuple[str, ...]:
    """A directory's names, listed once per change of the directory (its mtime): every
    iPhone photo of a folder asks."""
    try:
        return tuple(sorted(os.listdir(directory)))
    except OSError:
        return ()


def _other_half_names(path: Path) -> list[str]:
    """`IMG_0001` + each extension the other half may have, in lower or upper case."""
    mine = half(path)
    if mine is None:
        return []
    wanted = MOTION_EXTS if mine == "still" else STILL_EXTS
    return [path.stem + spelled for ext in wanted for spelled in (ext, ext.upper())]


def one_live_photo(a: Half, b: Half) -> bool:
    if a.content_id and b.content_id:
        return a.content_id == b.content_id
    return taken_together(a.instant, b.instant) and _apple(a.make, b.make)


def _apple(*makes: Optional[str]) -> bool:
    return any(m is not None and m.strip().lower().startswith("apple") for m in makes)


def apple_content_id(maker_note: object) -> Optional[str]:
    """The ContentIdentifier (tag 0x11) of an Apple maker note ("Apple iOS\\0", a version, a
    byte order, then an IFD whose offsets count from the note's start), or None. Pure."""
    if not isinstance(maker_note, (bytes, bytearray)) or not maker_note.startswith(b"Apple iOS\x00"):
        return None
    note = bytes(maker_note)
    order = ">" if note[12:14] == b"MM" else "<"
    try:
        (count,) = struct.unpack_from(order + "H", note, 14)
        for k in range(min(count, 200)):
            tag, kind, length, value = struct.unpack_from(order + "HHII", note, 16 + 12 * k)
            if tag == 0x11 and kind == 2:  # ASCII
                raw = note[16 + 12 * k + 8:16 + 12 * k + 12] if length <= 4 else note[value:value + length]
                text = raw.split(b"\x00")[0].decode("ascii", "replace").strip()
                return text or None
    except struct.error:
        return None
    return None
