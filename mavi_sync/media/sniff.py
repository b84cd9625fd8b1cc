"""Identify a file's format from its first bytes (magic numbers), never from its name.

This decides which prober reads the file: Pillow for images, PyAV for audio and
video. It must be exact for the formats memories.ai takes, because FFmpeg will
happily open a JPEG as a one-frame "video" and a HEIC as an MP4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

HEAD_BYTES = 512


@dataclass(frozen=True)
class Kind:
    family: str  # "image", "video", "audio"
    format: str  # canonical short name: jpeg, png, heif, mp4, mov, matroska, ...
    mime: str
    ext: str  # canonical extension (with dot) used for the upload's file name


_KINDS = {
    "jpeg": Kind("image", "jpeg", "image/jpeg", ".jpg"),
    "png": Kind("image", "png", "image/png", ".png"),
    "gif": Kind("image", "gif", "image/gif", ".gif"),
    "bmp": Kind("image", "bmp", "image/bmp", ".bmp"),
    "webp": Kind("image", "webp", "image/webp", ".webp"),
    "tiff": Kind("image", "tiff", "image/tiff", ".tif"),
    "heif": Kind("image", "heif", "image/heic", ".heic"),
    "avif": Kind("image", "avif", "image/avif", ".avif"),
    "mp4": Kind("video", "mp4", "video/mp4", ".mp4"),
    "mov": Kind("video", "mov", "video/quicktime", ".mov"),
    "matroska": Kind("video", "matroska", "video/x-matroska", ".mkv"),
    "webm": Kind("video", "webm", "video/webm", ".webm"),
    "avi": Kind("video", "avi", "video/x-msvideo", ".avi"),
    "mpegts": Kind("video", "mpegts", "video/mp2t", ".mts"),
    "mpeg": Kind("video", "mpeg", "video/mpeg", ".mpg"),
    "flv": Kind("video", "flv", "video/x-flv", ".flv"),
    "asf": Kind("video", "asf", "video/x-ms-wmv", ".wmv"),
    "h264": Kind("video", "h264", "video/h264", ".h264"),
    "m4a": Kind("audio", "m4a", "audio/mp4", ".m4a"),
    "mp3": Kind("audio", "mp3", "audio/mpeg", ".mp3"),
    "wav": Kind("audio", "wav", "audio/wav", ".wav"),
    "flac": Kind("audio", "flac", "audio/flac", ".flac"),
    "ogg": Kind("audio", "ogg", "audio/ogg", ".ogg"),
    "aac": Kind("audio", "aac", "audio/aac", ".aac"),
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def kind_by_name(fmt: str) -> Kind:
    return _KINDS[fmt]


def sniff(head: bytes) -> Optional[Kind]:
    """The Kind of a file starting with `head` (give at least 512 bytes), or None."""
    name = _sniff_name(head)
    return _KINDS[name] if name else None


def _sniff_name(h: bytes) -> Optional[str]:  # noqa: C901 - a flat table of magic numbers
    if h.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if h[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if h.startswith(b"BM") and len(h) >= 18 and h[14] in (12, 40, 52, 56, 64, 108, 124):
        return "bmp"
    if h[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if h.startswith(b"RIFF") and len(h) >= 12:
        return {b"WEBP": "webp", b"AVI ": "avi", b"WAVE": "wav"}.get(h[8:12])
    if len(h) >= 12 and h[4:8] == b"ftyp":
        return _sniff_ftyp(h)
    if len(h) >= 8 and h[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip") :
        return "mov"  # old QuickTime files without an ftyp box
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in h[:64] else "matroska"
    if h.startswith(b"FLV\x01"):
        return "flv"
    if h.startswith(_ASF_GUID):
        return "asf"
    if h.startswith(b"fLaC"):
        return "flac"
    if h.startswith(b"OggS"):
        return "ogg"
    if h.startswith(b"ID3") or (len(h) >= 2 and h[0] == 0xFF and h[1] & 0xE6 in (0xE2, 0xE4, 0xE6) and h[1] & 0x18 != 0x08):
        return "mp3"
    if len(h) >= 2 and h[0] == 0xFF and h[1] & 0xF6 == 0xF0:
        return "aac"  # ADTS
    if _is_mpegts(h):
        return "mpegts"
    if h.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    if h.startswith(b"\x00\x00\x00\x01") and len(h) > 4 and h[4] & 0x1F in (7, 9):
        return "h264"  # Annex-B elementary stream starting with an SPS or AUD
    return None


def _sniff_ftyp(h: bytes) -> str:
    major = h[8:12]
    size = int.from_bytes(h[0:4], "big")
    compatible = {h[i:i + 4] for i in range(16, min(size, len(h)) - 3, 4)}
    brands = {major} | compatible
    if major in _AVIF_BRANDS or (major in (b"mif1", b"msf1") and brands & _AVIF_BRANDS):
        return "avif"
    if major in _HEIF_BRANDS:
        return "heif"
    if major == b"qt  ":
        return "mov"
    if major in (b"M4A ", b"M4B ", b"F4A "):
        return "m4a"
    return "mp4"


def _is_mpegts(h: bytes) -> bool:
    # 188-byte packets (plain TS) or 192-byte packets with a 4-byte timestamp (M2TS/AVCHD).
    for step, offset in ((188, 0), (192, 4)):
        if len(h) >= offset + 2 * step + 1 and all(h[offset + i * step] == 0x47 for i in range(3)):
            return True
    return False
