"""A GoPro's model from `moov/udta/GPMF`, in an MP4 built box by box as a GoPro writes it
(the real GoPro MAX clip is checked against exiftool in test_corpus.py)."""

from __future__ import annotations

import struct
from pathlib import Path

from mavi_sync.media.gpmf import gopro_model


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def klv(key: bytes, kind: bytes, value: bytes, size: int = 1) -> bytes:
    padded = value + b"\0" * (-len(value) % 4)
    return struct.pack(">4scBH", key, kind, size, len(value) // size) + padded


def test_the_model_is_found_in_nested_gpmf_after_a_large_mdat(tmp_path: Path) -> None:
    devc = klv(b"DVID", b"L", b"\0\0\0\1", 4) + klv(b"DVNM", b"c", b"Global Settings") + \
        klv(b"MINF", b"c", b"HERO10 Black\0\0\0")
    gpmf = klv(b"DEVC", b"\0", devc)
    clip = tmp_path / "GX010001.MP4"
    with open(clip, "wb") as fh:
        fh.write(box(b"ftyp", b"mp41\0\0\0\0mp41"))
        fh.write(struct.pack(">I4sQ", 1, b"mdat", 16 + 50_000_000))  # a 64-bit size, as big clips have
        fh.truncate(fh.tell() + 50_000_000)  # sparse: no disk used
        fh.seek(0, 2)
        fh.write(box(b"moov", box(b"mvhd", b"\0" * 100) + box(b"udta", box(b"FIRM", b"H21.01.01.46.00")
                                                                  + box(b"GPMF", gpmf))))
    assert gopro_model(str(clip)) == "HERO10 Black"


def test_no_gpmf_or_a_broken_box_says_nothing(tmp_path: Path) -> None:
    plain = tmp_path / "plain.mp4"
    plain.write_bytes(box(b"ftyp", b"isom") + box(b"moov", box(b"udta", b"")))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(box(b"ftyp", b"isom") + struct.pack(">I4s", 999_999, b"moov") + b"\0" * 20)
    assert gopro_model(str(plain)) is None and gopro_model(str(broken)) is None
    assert gopro_model(str(tmp_path / "missing.mp4")) is None
