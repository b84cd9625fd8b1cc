"""Whether an ISO base media file (HEIC, AVIF) is whole: its top-level boxes must end
within the file.

The promise is the file's, not a decoder's: a HEIC cut short keeps its `meta` box at the
front, and some pillow-heif releases decode its first image from what is left while the
items at the end (EXIF, thumbnails, a burst's other frames) are gone. A file cut short is a
copy that stopped (a phone's sync, an SMB transfer), so it is refused as truncated (and,
while it is recent, waited on as unfinished) whatever the decoder installed makes of it.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")


def cut_short(fh: BinaryIO, size: int) -> bool:
    """True when a top-level box claims bytes beyond the file's `size`."""
    pos = 0
    while pos + _HEADER.size <= size:
        fh.seek(pos)
        head = fh.read(_HEADER.size + _LARGE.size)
        box_size, _kind = _HEADER.unpack_from(head)
        if box_size == 0:  # "to the end of the file": whole by definition
            return False
        if box_size == 1:
            if len(head) < _HEADER.size + _LARGE.size:
                return True
            box_size = _LARGE.unpack_from(head, _HEADER.size)[0]
        if box_size < _HEADER.size:
            return False  # not a box structure this check can follow; the decoder judges
        pos += box_size
    return pos > size
