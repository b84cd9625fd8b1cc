"""Content decides the type, never the name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mavi_sync.media.sniff import sniff
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video


@pytest.mark.parametrize("name,fmt", [("a.jpg", "jpeg"), ("a.png", "png"), ("a.gif", "gif"), ("a.bmp", "bmp"),
                                      ("a.webp", "webp"), ("a.tif", "tiff")])
def test_images_by_content(tmp_path: Path, name: str, fmt: str) -> None:
    path = write_image(tmp_path / name, ImageSpec())
    renamed = path.rename(tmp_path / "misnamed.mp4")
    kind = sniff(renamed.read_bytes()[:512])
    assert kind is not None and (kind.family, kind.format) == ("image", fmt)


@pytest.mark.parametrize("name,fmt", [("a.mp4", "mp4"), ("a.mov", "mov"), ("a.mkv", "matroska"),
                                      ("a.webm", "webm"), ("a.avi", "avi")])
def test_videos_by_content(tmp_path: Path, name: str, fmt: str) -> None:
    codec = "libvpx-vp9" if name.endswith((".mkv", ".webm")) else "mpeg4" if name.endswith(".avi") else "libx264"
    path = write_video(tmp_path / name, VideoSpec(codec=codec, seconds=0.3))
    kind = sniff(path.read_bytes()[:512])
    assert kind is not None and (kind.family, kind.format) == ("video", fmt)


@pytest.mark.parametrize("head,fmt", [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
    (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom", "m4a"),
    (b"fLaC\x00\x00\x00\x22", "flac"), (b"OggS\x00\x02", "ogg"), (b"ID3\x03\x00", "mp3"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"), (b"\x00\x00\x01\xba\x44", "mpeg"),
    ((b"\x47" + b"\x00" * 187) * 3, "mpegts"), ((b"\x00\x00\x00\x00\x47" + b"\x00" * 187) * 3, "mpegts"),
])
def test_magic_table(head: bytes, fmt: str) -> None:
    kind = sniff(head + b"\x00" * 64)
    assert kind is not None and kind.format == fmt


@pytest.mark.parametrize("head", [b"", b"hello, this is text\n", b"\x00" * 512, b"RIFF\x00\x00\x00\x00JUNK"])
def test_unknown_content(head: bytes) -> None:
    assert sniff(head) is None
