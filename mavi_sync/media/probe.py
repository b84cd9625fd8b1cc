"""`probe(path)`: the one entry point. It never raises: any failure is a refusal."""

from __future__ import annotations

import os
import stat

from mavi_sync.media.container import read_container
from mavi_sync.media.exif import read_image
from mavi_sync.media.model import MediaInfo
from mavi_sync.media.sniff import HEAD_BYTES, sniff


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Return what the file is and says; `refusal` is set when no target can take it."""
    text_path = os.fspath(path)
    try:
        st = os.stat(text_path)
    except OSError as exc:
        return MediaInfo(path=text_path, size=0, refusal=f"cannot read file ({_os_reason(exc)})")
    if not stat.S_ISREG(st.st_mode):
        return MediaInfo(path=text_path, size=0, refusal="not a regular file")
    if st.st_size == 0:
        return MediaInfo(path=text_path, size=0, refusal="file is empty (0 bytes)")
    try:
        with open(text_path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        return MediaInfo(path=text_path, size=st.st_size, refusal=f"cannot read file ({_os_reason(exc)})")
    kind = sniff(head)
    if kind is None:
        return MediaInfo(path=text_path, size=st.st_size, refusal=_unknown_reason(head))
    try:
        if kind.family == "image":
            return read_image(text_path, st.st_size, kind)
        return read_container(text_path, st.st_size, kind)
    except Exception as exc:  # noqa: BLE001 - the prober's contract: never raise
        return MediaInfo(path=text_path, size=st.st_size, kind=kind,
                         refusal=f"not a readable {kind.format.upper()} file ({_lib_reason(exc)})")


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or exc.__class__.__name__).lower()


def _lib_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc).split(":")[0]
    return text.strip().rstrip(".") or exc.__class__.__name__


def _unknown_reason(head: bytes) -> str:
    if _looks_like_text(head):
        return "this is a text file, not media (its name does not make it a video or an image)"
    return "unrecognised format: not an image, video or audio file memories.ai accepts"


def _looks_like_text(head: bytes) -> bool:
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in sample)
