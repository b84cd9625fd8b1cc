"""GoPro cameras name themselves in GPMF, not in the MP4's usual tags: `moov/udta/GPMF` holds
KLV entries (a 4-byte key, a type, a struct size, a repeat count), one of which, `MINF`, is
the model ("GoPro Max", "HERO10 Black"). Read by walking the boxes with seeks, so a 4 GB
clip costs a few small reads; nothing else in the file is touched.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Optional

_MAX_GPMF = 1 << 20  # the udta GPMF block is a few kB; anything bigger is not what we look for


def gopro_model(path: str) -> Optional[str]:
    """The model a GoPro MP4 records in its udta GPMF (`MINF`), or None."""
    try:
        with open(path, "rb") as fh:
            gpmf = _find(fh, [b"moov", b"udta", b"GPMF"])
    except OSError:
        return None
    return _klv_string(gpmf, b"MINF") if gpmf else None


def _find(fh: BinaryIO, route: list[bytes]) -> Optional[bytes]:
    """The payload of the box at `route` (each a child of the one before), or None."""
    fh.seek(0, 2)
    end, start = fh.tell(), 0
    for depth, name in enumerate(route):
        box = _child(fh, start, end, name)
        if box is None:
            return None
        start, end = box
        if depth == len(route) - 1:
            if end - start > _MAX_GPMF:
                return None
            fh.seek(start)
            return fh.read(end - start)
    return None


def _child(fh: BinaryIO, start: int, end: int, name: bytes) -> Optional[tuple[int, int]]:
    """(payload start, payload end) of the first box `name` between `start` and `end`."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            return None
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1 and len(head) == 16:
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return None
        if kind == name:
            return pos + header, pos + size
        pos += size
    return None


def _klv_string(data: bytes, key: bytes, depth: int = 0) -> Optional[str]:
    """The text of the first `key` entry of type 'c' in GPMF `data`, looking into nested ones."""
    i = 0
    while i + 8 <= len(data) and depth < 8:
        fourcc, kind, size, repeat = struct.unpack(">4scBH", data[i:i + 8])
        length = size * repeat
        value = data[i + 8:i + 8 + length]
        if fourcc == key and kind == b"c":
            text = value.split(b"\x00")[0].decode("ascii", "replace").strip()
            return text or None
        if kind == b"\x00":  # nested
            found = _klv_string(value, key, depth + 1)
            if found:
                return found
        i += 8 + (length + 3) // 4 * 4
    return None
