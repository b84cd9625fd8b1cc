"""AVCHD's MDPM (capture time and camera in the H.264 stream), from bytes built as a
camcorder writes them; the real Sony clip is checked against exiftool in test_corpus.py."""

from __future__ import annotations

from datetime import timedelta

from mavi_sync.media import mdpm


def sei(entries: list[tuple[int, bytes]], *, escaped: bool = False) -> bytes:
    pack = b"MDPM" + bytes([len(entries)]) + b"".join(bytes([tag]) + value for tag, value in entries)
    payload = mdpm.MDPM_UUID + pack
    body = bytes([5, len(payload)]) + payload + b"\x80"
    if escaped:  # what an encoder must do where the payload holds 00 00 0x (x <= 3)
        body = body.replace(b"\x00\x00\x01", b"\x00\x00\x03\x01")
    return b"\x00\x00\x00\x01\x09\xf0" + b"\x00\x00\x01\x06" + body + b"\x00\x00\x01\x65\x88"


def test_time_zone_dst_make_and_model() -> None:
    west_half = 0x20 | (3 << 1) | 0x01  # -03:30
    packet = sei([(0x18, bytes([west_half | 0x40, 0x20, 0x24, 0x12])), (0x19, bytes([0x31, 0x23, 0x59, 0x58])),
                  (0xE0, bytes([0x01, 0x08, 0x00, 0x00])), (0xE4, b"ILCE"), (0xE5, b"-7M3"), (0xE6, b"\x00" * 4)])
    found = mdpm.read([b"", packet])
    assert found is not None and found.make == "Sony" and found.model == "ILCE-7M3" and found.dst
    assert found.taken is not None and found.taken.isoformat() == "2024-12-31T23:59:58-03:30"
    assert found.taken.utcoffset() == -timedelta(hours=3, minutes=30)


def test_emulation_prevention_bytes_are_undone_and_garbage_says_nothing() -> None:
    packet = sei([(0x18, bytes([0x04, 0x20, 0x19, 0x04])), (0x19, bytes([0x24, 0x00, 0x00, 0x01])),
                  (0xE0, bytes([0x10, 0x11, 0, 0]))], escaped=True)
    found = mdpm.read([packet])
    assert found is not None and found.make == "Canon" and found.model is None
    assert found.taken is not None and found.taken.isoformat() == "2019-04-24T00:00:01+02:00"
    assert mdpm.read([b"\x00\x00\x01\x06\x05\x10" + b"\xff" * 40]) is None
    assert mdpm.read([sei([(0x18, b"\x04\x99\x99\x99"), (0x19, b"\x99\x99\x99\x99")])]).taken is None  # type: ignore[union-attr]
