"""Multipart bodies streamed from disk, never read whole into memory.

requests-toolbelt's MultipartEncoder does the encoding (it knows the total length
up front, so the server gets a Content-Length, not chunked encoding); this module
adds the two things an unattended uploader needs: a progress callback, and a
guard that aborts the attempt when the file changes while it is being sent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from mavi_sync.errors import FileChanged

Progress = Callable[[int, int], None]  # (bytes sent, total bytes)


@dataclass(frozen=True)
class FilePart:
    """One file in a multipart body, with the stat it must keep while being sent."""

    name: str  # the form field: "file" or "files"
    path: Path
    filename: str  # as the server sees it
    mime: str
    size: int
    mtime_ns: int


class GuardedFile:
    """A file opened for sending; raises FileChanged when its size or mtime moves.

    fstat after every read costs about a microsecond per chunk (chunks are 1 MiB).
    """

    def __init__(self, part: FilePart) -> None:
        self.part = part
        try:
            self._f = open(part.path, "rb")
        except FileNotFoundError:
            raise FileChanged(f"{part.path} vanished before it could be sent") from None
        try:
            self._check()
        except FileChanged:
            self._f.close()
            raise

    def _check(self) -> None:
        st = os.fstat(self._f.fileno())
        if (st.st_size, st.st_mtime_ns) != (self.part.size, self.part.mtime_ns):
            raise FileChanged(f"{self.part.path} changed while being sent "
                              f"(size {self.part.size} → {st.st_size})")

    @property
    def len(self) -> int:  # what MultipartEncoder asks for: the bytes still to read
        return self.part.size - self._f.tell()

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._check()
        return data

    def close(self) -> None:
        self._f.close()


class Body:
    """A streamed multipart body: pass `.stream` as requests' `data`, `.content_type` as the header.

    `complete` turns true once every byte was handed to the socket: after that, a lost
    answer means the server may hold the upload (an unknown outcome, not a plain failure).
    """

    def __init__(self, fields: Sequence[tuple[str, Any]], files: Sequence[FilePart],
                 progress: Optional[Progress] = None) -> None:
        self._guards: list[GuardedFile] = []
        try:
            for part in files:
                self._guards.append(GuardedFile(part))
            parts: list[tuple[str, Any]] = list(fields)
            parts += [(g.part.name, (g.part.filename, g, g.part.mime)) for g in self._guards]
            self._encoder = MultipartEncoder(fields=parts)
        except BaseException:
            self.close()
            raise
        self._progress = progress
        # Called once, at the first read: http.client reads the body only after the
        # request line and headers are on the wire, so this is when the request left.
        self.on_start: Callable[[], None] = lambda: None
        self._started = False
        self.stream = MultipartEncoderMonitor(self._encoder, self._on_read)
        self.content_type: str = self._encoder.content_type
        self.total: int = self._encoder.len

    def _on_read(self, monitor: MultipartEncoderMonitor) -> None:
        if not self._started:
            self._started = True
            self.on_start()
        if self._progress is not None:
            self._progress(monitor.bytes_read, self.total)

    @property
    def sent(self) -> int:
        return int(self.stream.bytes_read)

    @property
    def complete(self) -> bool:
        return self.sent >= self.total

    def close(self) -> None:
        for guard in self._guards:
            guard.close()

    def __enter__(self) -> "Body":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def form_fields(form: dict[str, Any]) -> list[tuple[str, str]]:
    """Form values as multipart text fields; lists become the field repeated (`tags`)."""
    out: list[tuple[str, str]] = []
    for name, value in form.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        out += [(name, _text(v)) for v in values]
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
