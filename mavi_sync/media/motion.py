"""Android motion photos: one JPEG with a short MP4 appended after the picture.

Google's phones say so in the XMP (`GCamera:MotionPhoto="1"` and a `Container:Directory`
whose `MotionPhoto` item has the clip's `Item:Length`, counted from the file's end; before
2021, `GCamera:MicroVideo="1"` and `GCamera:MicroVideoOffset`, also from the end). Samsung's
write the clip after the marker `MotionPhoto_Data` and close the file with their `SEFT`
trailer (newer ones write Google's XMP too). A JPEG viewer sees the picture and ignores the
rest; the clip is found here, its box structure checked, and probed with PyAV where it lies
(nothing is copied to probe it). The folder's `live_photos` decides what is sent (media/pairs.py).
"""

from __future__ import annotations

import io
import os
import re
import struct
from dataclasses import dataclass
from typing import Optional

_SAMSUNG_MARK = b"MotionPhoto_Data"
_READ_MAX = 200 * 1000 * 1000  # a motion photo is a few MB; past this nothing is searched
_ITEM = re.compile(rb"<Container:Item\b[^>]*>", re.S)
_LENGTH = re.compile(rb'Item:Length="(\d+)"')
_MICRO_OFFSET = re.compile(rb'MicroVideoOffset="(\d+)"')
_FLAG = re.compile(rb'GCamera:(?:MotionPhoto|MicroVideo)="1"')


@dataclass(frozen=True)
class Clip:
    """Where the clip lies in the file."""

    offset: int
    size: int


def find_clip(path: str, size: int, xmp: Optional[bytes]) -> Optional[Clip]:
    """The clip inside the JPEG at `path`, or None. Reads the file only when its XMP or its
    last bytes say there is one."""
    flagged = xmp is not None and _FLAG.search(xmp) is not None
    if flagged:
        assert xmp is not None
        from_end = _google_length(xmp)
        if from_end and 0 < from_end < size and (clip := _checked(path, size - from_end, size)) is not None:
            return clip
    if flagged or (size <= _READ_MAX and _ends_with(path, size, b"SEFT")):
        return _searched(path, size)
    return None


def _google_length(xmp: bytes) -> Optional[int]:
    for item in _ITEM.findall(xmp):
        if b'Semantic="MotionPhoto"' in item:
            length = _LENGTH.search(item)
            return int(length.group(1)) if length else None
    micro = _MICRO_OFFSET.search(xmp)
    return int(micro.group(1)) if micro else None


def _ends_with(path: str, size: int, mark: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, size - len(mark)))
            return fh.read(len(mark)) == mark
    except OSError:
        return False


def _searched(path: str, size: int) -> Optional[Clip]:
    """Samsung's layout (or an XMP whose length is wrong): the MP4 after the marker."""
    if size > _READ_MAX:
        return None
    with open(path, "rb") as fh:
        data = fh.read()
    at = data.rfind(_SAMSUNG_MARK)
    starts = [at + len(_SAMSUNG_MARK)] if at >= 0 else [m.start() - 4 for m in re.finditer(rb"ftyp", data[2:])]
    for start in starts:
        end = mp4_end(data, start)
        if end is not None:
            return Clip(start, end - start)
    return None


def _checked(path: str, start: int, size: int) -> Optional[Clip]:
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(size - start)
    end = mp4_end(data, 0)
    return Clip(start, end) if end is not None else None


def mp4_end(data: bytes, start: int) -> Optional[int]:
    """Where the MP4 that starts at `start` in `data` ends (its top-level boxes walked), or
    None when no MP4 starts there: it must open with `ftyp` and hold a `moov`. Pure."""
    at, seen = start, set()
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        if length == 1 and at + 16 <= len(data):
            (length,) = struct.unpack_from(">Q", data, at + 8)
        elif length == 0:
            length = len(data) - at
        if length < 8 or at + length > len(data) or not kind.isalnum():
            break  # past the clip: Samsung's trailer, or the end
        if at == start and kind != b"ftyp":
            return None
        seen.add(kind)
        at += length
    if b"moov" not in seen or b"mdat" not in seen:
        return None
    return min(at, len(data))


class _Slice(io.RawIOBase):
    """`length` bytes of a file from `offset`, seen as a file of their own (PyAV reads it)."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        self._fh = open(path, "rb")
        self._offset, self._length, self._at = offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._at, os.SEEK_END: self._length}[whence]
        self._at = max(0, min(self._length, base + pos))
        return self._at

    def tell(self) -> int:
        return self._at

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        want = min(len(buffer), self._length - self._at)
        if want <= 0:
            return 0
        self._fh.seek(self._offset + self._at)
        got = self._fh.readinto(memoryview(buffer)[:want]) or 0
        self._at += got
        return got

    def close(self) -> None:
        self._fh.close()
        super().close()


@dataclass(frozen=True)
class ClipInfo:
    codec: Optional[str]
    duration_s: Optional[float]


def probe_clip(path: str, clip: Clip) -> ClipInfo:
    """The embedded clip's video codec and duration (PyAV reads it in place). Raises
    av.FFmpegError or OSError; the caller notes it and sends the still."""
    import av

    with _Slice(path, clip.offset, clip.size) as part, av.open(part, format="mp4") as container:
        video = container.streams.video[0] if container.streams.video else None
        duration = float(container.duration / av.time_base) if container.duration else None
        return ClipInfo(video.codec_context.name if video is not None else None, duration)


def extract(src: str, dest: str, clip: Clip) -> None:
    """Copy the clip's bytes to `dest` (a temp name, then a rename)."""
    tmp = f"{dest}.part"
    with open(src, "rb") as fh, open(tmp, "wb") as out:
        fh.seek(clip.offset)
        left = clip.size
        while left > 0:
            chunk = fh.read(min(left, 1 << 20))
            if not chunk:
                raise OSError(f"{src} is shorter than its motion photo's clip")
            out.write(chunk)
            left -= len(chunk)
    os.replace(tmp, dest)
