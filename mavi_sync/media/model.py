"""What probing a file yields: one immutable record, with a refusal reason when unusable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from mavi_sync.media.sniff import Kind
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
