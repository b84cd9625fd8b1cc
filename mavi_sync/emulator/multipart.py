"""Reading a multipart upload as it streams in: bytes go to disk (or only through the
hash), never into memory, so a multi-GB upload keeps the emulator's memory flat."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from aiohttp import BodyPartReader, web

from mavi_sync.emulator.validate import Upload

CHUNK = 1 << 20
MAX_TEXT = 1 << 20  # a text field longer than this is cut (and then refused by the checks)


class Dropped(Exception):
    """The emulator cut the connection mid-body on purpose (a fault)."""


@dataclass
class Received:
    upload: Upload
    sha256: str
    tmp: Optional[Path]  # the bytes on disk, None when not kept


@dataclass
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    files: list[Received] = field(default_factory=list)

    @property
    def uploads(self) -> list[Upload]:
        return [r.upload for r in self.files]

    def one(self, name: str) -> Optional[str]:
        values = self.fields.get(name)
        return values[-1] if values else None

    def discard(self) -> None:
        for received in self.files:
            if received.tmp is not None:
                received.tmp.unlink(missing_ok=True)

    def keep(self, received: Received, blobs: Path, name: str) -> Optional[str]:
        """Move a received file's bytes to their final name; return that path."""
        if received.tmp is None:
            return None
        final = blobs / name
        os.replace(received.tmp, final)
        return str(final)


async def drain(request: web.Request) -> int:
    """Read and discard what is left of the body (so the client sees our answer, not a reset)."""
    total = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return total
        total += len(chunk)


async def read_form(request: web.Request, blobs: Path, *, keep_bytes: bool,
                    drop_after: Optional[int] = None, pace: float = 0.0) -> Form:
    """Parse the multipart body; raise Dropped after `drop_after` file bytes (a fault); read
    files no faster than `pace` bytes/s when set (a slow uplink: the client's socket fills)."""
    form = Form()
    started = time.monotonic()
    reader = await request.multipart()
    seen = 0
    try:
        while True:
            part = await reader.next()
            if part is None:
                return form
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: not something the API takes
            name = part.name or ""
            ctype = part.headers.get("Content-Type", "")
            # A JSON part (security's `req`) is sent with a file name, yet it is a field.
            if part.filename is None or ctype.startswith("application/json"):
                text = (await part.read_chunk(MAX_TEXT)).decode("utf-8", "replace")
                while await part.read_chunk(CHUNK):
                    pass
                form.fields.setdefault(name, []).append(text)
                form.content_types[name] = ctype
                continue
            received, seen = await _receive(part, name, ctype, blobs, keep_bytes, seen, drop_after,
                                            (started, pace) if pace > 0 else None)
            form.files.append(received)
    except BaseException:
        form.discard()
        raise


async def _receive(part: BodyPartReader, name: str, ctype: str, blobs: Path, keep_bytes: bool,
                   seen: int, drop_after: Optional[int],
                   pace: Optional[tuple[float, float]] = None) -> tuple[Received, int]:
    digest = hashlib.sha256()
    size = 0
    tmp = blobs / f"tmp-{uuid.uuid4().hex}" if keep_bytes else None
    out = open(tmp, "wb") if tmp is not None else None
    try:
        while True:
            chunk = await part.read_chunk(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            seen += len(chunk)
            if out is not None:
                out.write(chunk)
            if drop_after is not None and seen >= drop_after:
                raise Dropped()
            if pace is not None:  # (started, bytes/s): this many bytes are due this late
                await asyncio.sleep(max(0.0, pace[0] + seen / pace[1] - time.monotonic()))
    except BaseException:
        if out is not None:
            out.close()
            assert tmp is not None
            tmp.unlink(missing_ok=True)
        raise
    if out is not None:
        out.close()
    upload = Upload(name, part.filename or "", ctype, size)
    return Received(upload, digest.hexdigest(), tmp), seen
