"""FLIR thermal cameras' capture time: not in EXIF (their EXIF has no date at all) but in
FLIR's own FFF record, split across APP1 segments that begin `FLIR\\0`.

The FFF file holds a directory of records; the CameraInfo record (type 0x20) has, at 0x384,
the time as Unix seconds, milliseconds and the zone as minutes west of UTC, in the record's
own byte order (its first word reads 2). This is what exiftool's FLIR module reads
(DateTimeOriginal); a few hundred bytes of an image the prober has open anyway. Pure.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional

from mavi_sync.media.model import Taken

_HEADER = b"FLIR\x00"
_CAMERA_INFO = 0x20
_DATE_AT = 0x384


def taken(applist: Iterable[tuple[str, bytes]]) -> Optional[Taken]:
    """The capture time from a JPEG's APP segments (Pillow's `applist`), or None."""
    parts = sorted((seg[6], seg[8:]) for name, seg in applist
                   if name == "APP1" and seg.startswith(_HEADER) and len(seg) > 8)
    fff = b"".join(data for _, data in parts)
    try:
        return _camera_time(fff)
    except (struct.error, ValueError, OverflowError, OSError):
        return None


def _camera_time(fff: bytes) -> Optional[Taken]:
    if not fff.startswith(b"FFF\x00"):
        return None
    directory, count = struct.unpack_from(">II", fff, 0x18)
    order = ">"
    if count > 0xFFFF:  # the header's own order is little-endian on some models
        order = "<"
        directory, count = struct.unpack_from("<II", fff, 0x18)
    for k in range(min(count, 64)):
        kind, _sub, _version, _id, offset, length = struct.unpack_from(order + "HHIIII", fff, directory + 32 * k)
        if kind == _CAMERA_INFO and length > _DATE_AT + 10:
            return _record_time(fff[offset:offset + length])
    return None


def _record_time(record: bytes) -> Optional[Taken]:
    order = "<" if struct.unpack_from("<H", record, 0)[0] == 2 else ">"
    seconds, millis, west = struct.unpack_from(order + "IIh", record, _DATE_AT)
    if seconds == 0:
        return None
    zone = timezone(timedelta(minutes=-west))
    when = datetime.fromtimestamp(seconds, zone) + timedelta(milliseconds=millis & 0xFFFF)
    return Taken(when, "flir")
