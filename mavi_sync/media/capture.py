"""When was it taken? The fallback chain, resolved into a local wall clock and an instant.

Order: embedded metadata → date in the file name → file mtime. Local times without
a zone are read in the folder's time zone (the zone the camera's clock is set to;
the machine's zone when none is configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Optional

from mavi_sync.media.filename import date_from_name
from mavi_sync.media.model import Taken


@dataclass(frozen=True)
class Capture:
    local: datetime  # naive: the wall clock the camera showed
    instant: datetime  # aware: the moment, with its UTC offset
    source: str  # exif, xmp, quicktime, container, filename, mtime
    offset_from_file: bool  # False when the offset was assumed from the folder's zone

    def upload_value(self, mode: str) -> str:
        """`yyyy-MM-dd HH:mm:ss` as the API wants: local wall clock, or UTC."""
        value = self.local if mode == "local" else self.instant.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S")


def _attach(naive: datetime, zone: Optional[tzinfo]) -> datetime:
    # Without a zone, naive.astimezone() reads the wall clock in the machine's zone (with DST).
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def _to_zone(aware: datetime, zone: Optional[tzinfo]) -> datetime:
    return aware.astimezone(zone) if zone is not None else aware.astimezone()


def from_taken(taken: Taken, zone: Optional[tzinfo]) -> Capture:
    """Resolve one embedded capture time."""
    when = taken.when
    if when.tzinfo is None:
        return Capture(when, _attach(when, zone), taken.source, offset_from_file=False)
    if taken.utc_only:
        local = _to_zone(when, zone)
        return Capture(local.replace(tzinfo=None), local, taken.source, offset_from_file=False)
    return Capture(when.replace(tzinfo=None), when, taken.source, offset_from_file=True)


def resolve_capture(taken: Optional[Taken], name: str, mtime: float, zone: Optional[tzinfo]) -> Capture:
    """The capture time by the fallback chain; never fails (mtime always exists)."""
    if taken is not None:
        return from_taken(taken, zone)
    from_name = date_from_name(name)
    if from_name is not None:
        local, _has_time = from_name
        return Capture(local, _attach(local, zone), "filename", offset_from_file=False)
    instant = _to_zone(datetime.fromtimestamp(mtime, timezone.utc), zone)
    return Capture(instant.replace(tzinfo=None), instant, "mtime", offset_from_file=False)
