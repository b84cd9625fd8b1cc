"""AVCHD camcorders (Sony, Panasonic, Canon, JVC) keep the capture time and the camera in the
H.264 stream itself, not in the MPEG-TS container: an SEI message of unregistered user data
(UUID 17ee8c60-f84d-11d9-8cd6-0800200c9a66) holding a "Modified Digital Video Pack" (MDPM)
of 5-byte entries. Pure: bytes of the first video packets in, values out. The layout is
exiftool's (Image::ExifTool::H264), which `tests/media/test_corpus.py` matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional

MDPM_UUID = bytes.fromhex("17ee8c60f84d11d98cd60800200c9a66")
MAKES = {0x0103: "Panasonic", 0x0108: "Sony", 0x1011: "Canon", 0x1104: "JVC"}
_SEI, _USER_DATA_UNREGISTERED = 6, 5


@dataclass(frozen=True)
class Mdpm:
    taken: Optional[datetime] = None  # aware: the camcorder records its zone
    dst: bool = False
    make: Optional[str] = None
    model: Optional[str] = None


def read(packets: Iterable[bytes]) -> Optional[Mdpm]:
    """The first MDPM found in Annex B H.264 `packets`, or None."""
    for packet in packets:
        for nal in _nal_units(packet):
            if nal and nal[0] & 0x1F == _SEI:
                for ptype, payload in _sei_messages(_unescape(nal[1:])):
                    if ptype == _USER_DATA_UNREGISTERED and payload[:16] == MDPM_UUID and payload[16:20] == b"MDPM":
                        return _decode(payload[20:])
    return None


def _nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes 00 00 01 / 00 00 00 01)."""
    units, i, start = [], 0, -1
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        if start >= 0:
            units.append(data[start:j].rstrip(b"\x00"))
        start, i = j + 3, j + 3
    if start >= 0:
        units.append(data[start:])
    return units


def _unescape(rbsp: bytes) -> bytes:
    """Drop the emulation-prevention bytes (00 00 03 → 00 00)."""
    return rbsp.replace(b"\x00\x00\x03", b"\x00\x00")


def _sei_messages(data: bytes) -> list[tuple[int, bytes]]:
    messages, i = [], 0
    while i < len(data) and data[i] != 0x80:  # 0x80: the RBSP trailing bits
        ptype, i = _ff_coded(data, i)
        size, i = _ff_coded(data, i)
        messages.append((ptype, data[i:i + size]))
        i += size
    return messages


def _ff_coded(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    while i < len(data) and data[i] == 0xFF:
        value, i = value + 255, i + 1
    return (value + data[i], i + 1) if i < len(data) else (value, i)


def _decode(pack: bytes) -> Mdpm:
    count = pack[0] if pack else 0
    entries = {pack[1 + 5 * k]: pack[2 + 5 * k:6 + 5 * k] for k in range(count) if 6 + 5 * k <= len(pack)}
    taken, dst = _taken(entries.get(0x18), entries.get(0x19))
    make_model = entries.get(0xE0)
    make = MAKES.get(int.from_bytes(make_model[:2], "big")) if make_model else None
    model = b"".join(entries.get(tag, b"") for tag in (0xE4, 0xE5, 0xE6)).split(b"\x00")[0].decode("ascii", "replace")
    return Mdpm(taken, dst, make, model.strip() or None if make == "Sony" else None)


def _taken(first: Optional[bytes], second: Optional[bytes]) -> tuple[Optional[datetime], bool]:
    """0x18 = [zone, year (2 BCD bytes), month]; 0x19 = [day, hour, minute, second]. The zone
    byte: 0x20 sign (west), bits 1-4 hours, 0x01 half an hour, 0x40 summer time in force."""
    if first is None or second is None:
        return None, False
    zone, digits = first[0], first[1:] + second
    try:
        year, month, day, hour, minute, second_ = (int(f"{digits[0]:02x}{digits[1]:02x}"),
                                                   *(int(f"{b:02x}") for b in digits[2:7]))
        offset = timedelta(hours=(zone >> 1) & 0x0F, minutes=30 if zone & 0x01 else 0)
        tz = timezone(-offset if zone & 0x20 else offset)
        return datetime(year, month, day, hour, minute, second_, tzinfo=tz), bool(zone & 0x40)
    except ValueError:  # not BCD, or not a date: nothing said
        return None, False
