"""The staging area: files made for upload from an original no endpoint takes (a HEIC photo
made a JPEG), kept under the state directory only while they are being sent.

The original stays the file's identity: its sha256 keys the ledger row, its paths are
archived or deleted after confirmation. A staged file is named by the original's hash, is
made again for each attempt (a conversion takes a fraction of a second; a stale one is
never sent), removed when the attempt ends, and everything left here by a crash is removed
at start. The area is bounded: past `max_bytes` a conversion waits for room.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Optional

from mavi_sync.errors import StagingFull
from mavi_sync.media.model import Converted
from mavi_sync.media.prober import Converter

STAGING_DIR = "staging"


class Staging:
    def __init__(self, root: Path, max_bytes: int, convert: Converter, transcode: Optional[Converter] = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.convert = convert
        self.transcode = transcode or convert  # the daemon's: a helper of its own, niced
        # What conversions in flight may still write, by staged name: workers convert side by
        # side, and a half-written MP4 on disk says nothing of the size it is heading for.
        self._reserved: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, ledger_path: Path, max_bytes: int, convert: Converter,
               transcode: Optional[Converter] = None) -> "Staging":
        """The staging area in the ledger's directory (the state directory)."""
        return cls(ledger_path.parent / STAGING_DIR, max_bytes, convert, transcode)

    def clean(self) -> int:
        """Remove what an earlier run left (nothing is in flight at start); how many."""
        removed = 0
        if self.root.is_dir():
            for entry in self.root.iterdir():
                try:
                    entry.unlink()
                    removed += 1
                except OSError:
                    pass
        return removed

    def used(self) -> int:
        return self._usage(exclude=set())

    def to_jpeg(self, src: Path, sha256: str, quality: int, max_bytes: int) -> Converted:
        """`src` as a JPEG of at most `max_bytes`, named by the original's hash. Raises
        ConversionError (the file cannot be converted), StagingFull, or OSError."""
        return self._made(self.convert, src, self.root / f"{sha256}.jpg", max_bytes, "jpeg",
                          {"quality": quality, "max_bytes": max_bytes})

    def to_mp4(self, src: Path, sha256: str, size: int, creation_time: Optional[str]) -> Converted:
        """`src` (MPEG-TS, raw H.264) remuxed into MP4 without re-encoding: about `size` bytes."""
        # MP4's index weighs a little more than TS's packets save
        return self._made(self.convert, src, self.root / f"{sha256}.mp4", size + size // 20, "mp4",
                          {"creation_time": creation_time})

    def clip(self, src: Path, sha256: str, offset: int, size: int) -> Converted:
        """A motion photo's clip copied out of it: `size` bytes."""
        return self._made(self.convert, src, self.root / f"{sha256}.mp4", size, "clip",
                          {"offset": offset, "size": size})

    def to_h264(self, src: Path, sha256: str, size: int, creation_time: Optional[str]) -> Converted:
        """`src` re-encoded as H.264 in MP4 (transcode = true): about `size` bytes reserved."""
        dest = self.root / f"{sha256}.mp4"
        return self._made(self.transcode, src, dest, size, "h264",
                          {"creation_time": creation_time, "progress": f"{dest}.progress"})

    def progress(self) -> Optional[str]:
        """How far a transcode has got, for status lines ("42 % of 3 min"), or None."""
        try:
            reports = [p for p in self.root.iterdir() if p.name.endswith(".progress")]
            if not reports:
                return None
            done = json.loads(reports[0].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        total = float(done.get("total_s") or 0)
        share = f"{float(done.get('done_s', 0)) / total:.0%} of {total / 60:.0f} min" if total else \
            f"{float(done.get('done_s', 0)):.0f} s"
        return f"transcoding: {share}"

    def _made(self, convert: Converter, src: Path, dest: Path, size: int, to: str,
              options: dict[str, object]) -> Converted:
        """Reserve `size` bytes for `dest`, convert, and keep the reservation until `release`
        (it is given back at once if the conversion fails)."""
        self._reserve(dest.name, size)
        try:
            return convert(os.fspath(src), os.fspath(dest), to, options)
        except BaseException:
            self._unreserve(dest.name)
            raise

    def _reserve(self, name: str, size: int) -> None:
        with self._lock:
            if name in self._reserved:
                raise StagingFull(f"{name} is being made for another attempt: this one waits")
            on_disk = self._usage(exclude=set(self._reserved))
            held = on_disk + sum(self._reserved.values())
            if held + size > self.max_bytes:
                raise StagingFull(f"the staging area holds {held / 1e6:.0f} MB of its {self.max_bytes / 1e6:.0f} MB "
                                  f"and this needs {size / 1e6:.0f} MB: the conversion waits for room")
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._reserved[name] = size

    def _unreserve(self, name: str) -> None:
        with self._lock:
            self._reserved.pop(name, None)

    def _usage(self, exclude: set[str]) -> int:
        """Bytes on disk, leaving out the files (and their .part, .progress) of `exclude`."""
        stems = {n.split(".")[0] for n in exclude}
        try:
            return sum(e.stat().st_size for e in os.scandir(self.root) if e.is_file() and e.name.split(".")[0] not in stems)
        except OSError:
            return 0

    def release(self, staged: Converted) -> None:
        """The attempt is over (sent, refused or failed): the staged file goes."""
        self._unreserve(os.path.basename(staged.path))
        try:
            os.unlink(staged.path)
        except FileNotFoundError:
            pass
