"""FLIR's capture time from its FFF record (exiftool's DateTimeOriginal), on a JPEG written
here with the record split across APP1 segments as the cameras write it."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.media.probe import probe


def _fff(seconds: int, millis: int, west_minutes: int) -> bytes:
    camera_info = bytearray(0x400)
    struct.pack_into("<H", camera_info, 0, 2)  # the record's first word says its byte order
    struct.pack_into("<IIh", camera_info, 0x384, seconds, millis, west_minutes)
    header = bytearray(64)
    header[0:4] = b"FFF\x00"
    struct.pack_into(">II", header, 0x18, 64, 2)
    directory = struct.pack(">HHIIII", 0x01, 0, 100, 1, 0, 0) + b"\x00" * 12
    directory += struct.pack(">HHIIII", 0x20, 0, 100, 2, 128, len(camera_info)) + b"\x00" * 12
    return bytes(header) + directory + bytes(camera_info)


def _with_flir(jpeg: bytes, fff: bytes, part: int = 3000) -> bytes:
    chunks = [fff[i:i + part] for i in range(0, len(fff), part)]
    segments = b"".join(b"\xff\xe1" + struct.pack(">H", 2 + 8 + len(c)) + b"FLIR\x00\x01" + bytes([k, len(chunks) - 1]) + c
                        for k, c in enumerate(chunks))
    return jpeg[:2] + segments + jpeg[2:]


def test_a_flir_photo_is_dated_by_its_fff_record(tmp_path: Path) -> None:
    plain = write_image(tmp_path / "plain.jpg", ImageSpec(make="FLIR", model="Vue Pro 640"))
    assert probe(plain).taken is None  # FLIR's EXIF has no date
    when = datetime(2016, 6, 27, 15, 29, 42, 41000, tzinfo=timezone(timedelta(hours=-4)))
    flir = tmp_path / "FLIR0001.jpg"
    flir.write_bytes(_with_flir(plain.read_bytes(), _fff(int(when.timestamp()), 41, 240), part=100))
    info = probe(flir)
    assert info.refusal is None and info.taken is not None and info.taken.source == "flir"
    assert info.taken.when == when and info.taken.when.utcoffset() == timedelta(hours=-4)


def test_a_damaged_fff_record_costs_the_date_only(tmp_path: Path) -> None:
    plain = write_image(tmp_path / "plain.jpg", ImageSpec(make="FLIR"))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(_with_flir(plain.read_bytes(), _fff(1467055782, 41, 240)[:200]))
    info = probe(broken)
    assert info.refusal is None and info.taken is None and info.make == "FLIR"
