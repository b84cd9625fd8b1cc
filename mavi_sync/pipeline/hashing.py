"""Content hashes, streamed from disk in fixed-size chunks (memory stays flat for 4 GB files)."""

from __future__ import annotations

import hashlib
import os

CHUNK = 1 << 20


def sha256_file(path: str | bytes | os.PathLike[str]) -> str:
    """Hex sha256 of the file's bytes; OSError propagates (the caller decides what it means)."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while True:
            n = fh.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()
