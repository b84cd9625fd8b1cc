"""What probing a file yields: one immutable record, with a refusal reason when unusable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Optional

from mavi_sync.media.sniff import Kind, kind_by_name
from mavi_sync.media.values import fold_camera_model


@dataclass(frozen=True)
class Taken:
    """A capture time as found in one source.

    `when` is aware when the source gave an offset, naive when it gave a local wall
    clock without a zone. `utc_only` marks times that are UTC by spec with no local
    zone known (QuickTime `creation_time`): the wall clock must be derived.
    """

    when: datetime
    source: str
    utc_only: bool = False


@dataclass(frozen=True)
class MediaInfo:
    path: str
    size: int
    kind: Optional[Kind] = None
    # Why no target can take this file at all (unreadable, corrupt, unknown format).
    refusal: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    orientation: Optional[int] = None
    duration_s: Optional[float] = None
    video_codec: Optional[str] = None
    audio_codec: Optional[str] = None
    taken: Optional[Taken] = None
    make: Optional[str] = None
    model: Optional[str] = None
    position: Optional[tuple[float, float]] = None
    keywords: tuple[str, ...] = ()
    content_id: Optional[str] = None  # Apple's Live Photo identifier (media/pairs.py)
    # An Android motion photo's clip, inside this JPEG (media/motion.py): where, and what it is.
    motion_offset: Optional[int] = None
    motion_size: Optional[int] = None
    motion_codec: Optional[str] = None
    motion_duration_s: Optional[float] = None
    # Non-fatal remarks for `inspect`, e.g. "GPS latitude 213.64 out of range: not sent".
    notes: tuple[str, ...] = field(default=())

    @property
    def family(self) -> Optional[str]:
        return self.kind.family if self.kind else None

    @property
    def camera_model(self) -> Optional[str]:
        return fold_camera_model(self.make, self.model)

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def info_to_wire(info: MediaInfo) -> dict[str, Any]:
    """A JSON-safe dict (the probe helper process sends it back line by line).
    Names that are not UTF-8 keep their surrogate escapes; `json` writes them as \\udcXX."""
    wire = {f.name: getattr(info, f.name) for f in fields(MediaInfo)}
    wire["kind"] = info.kind.format if info.kind else None
    wire["taken"] = ({"when": info.taken.when.isoformat(), "source": info.taken.source,
                      "utc_only": info.taken.utc_only} if info.taken else None)
    wire["position"] = list(info.position) if info.position else None
    wire["keywords"], wire["notes"] = list(info.keywords), list(info.notes)
    return wire


def info_from_wire(wire: dict[str, Any]) -> MediaInfo:
    """The inverse of `info_to_wire`: an equal MediaInfo."""
    values = dict(wire)
    values["kind"] = kind_by_name(wire["kind"]) if wire["kind"] else None
    taken = wire["taken"]
    values["taken"] = (Taken(datetime.fromisoformat(taken["when"]), taken["source"], taken["utc_only"])
                       if taken else None)
    values["position"] = tuple(wire["position"]) if wire["position"] else None
    values["keywords"], values["notes"] = tuple(wire["keywords"]), tuple(wire["notes"])
    return MediaInfo(**values)


@dataclass(frozen=True)
class Converted:
    """What a conversion wrote: the file, its bytes' hash, and how it had to be made."""

    path: str
    size: int
    sha256: str
    width: int
    height: int
    quality: int
    scale: float  # 1.0 unless the size limit needed a smaller image
    notes: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        wire = asdict(self)
        wire["notes"] = list(self.notes)
        return wire

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> "Converted":
        return cls(**{**wire, "notes": tuple(wire.get("notes", ()))})
