"""The prober on real generated files: metadata comes out right, and broken input is a
refusal with a reason, never an exception."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mavi_sync.media.probe import probe
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video

PHOTO = ImageSpec(make="Canon", model="Canon EOS 5D", taken="2025:10:20 11:00:00", subsec="25", offset="+02:00",
                  gps=(-33.865, 151.2094), orientation=6, keywords=["beach", "family", "Beach"])


def test_jpeg_metadata(tmp_path: Path) -> None:
    info = probe(write_image(tmp_path / "a.jpg", PHOTO))
    assert info.refusal is None and info.kind is not None and info.kind.format == "jpeg"
    assert info.taken is not None and info.taken.source == "exif"
    assert info.taken.when == datetime(2025, 10, 20, 11, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert info.camera_model == "Canon EOS 5D"
    assert info.position == pytest.approx((-33.865, 151.2094), abs=1e-6)
    assert info.orientation == 6
    assert info.keywords == ("beach", "family")  # XMP keywords, de-duplicated case-insensitively


@pytest.mark.parametrize("name", ["a.png", "a.webp"])
def test_exif_in_png_and_webp(tmp_path: Path, name: str) -> None:
    info = probe(write_image(tmp_path / name, PHOTO))
    assert info.camera_model == "Canon EOS 5D" and info.taken is not None and info.position is not None


def test_jpeg_named_heic_is_a_jpeg(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.jpg", PHOTO).rename(tmp_path / "photo.heic")
    info = probe(path)
    assert info.kind is not None and info.kind.format == "jpeg" and info.refusal is None


def test_null_island_and_out_of_range_gps_are_not_used(tmp_path: Path) -> None:
    zero = probe(write_image(tmp_path / "z.jpg", ImageSpec(gps=(0.0, 0.0))))
    assert zero.position is None and any("not a real position" in n for n in zero.notes)


def test_mp4_with_android_location(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mp4", VideoSpec(
        creation_time="2025-10-20T09:00:00.000000Z", location="+52.5200+013.4050/", audio=True, seconds=1)))
    assert info.refusal is None
    assert (info.video_codec, info.audio_codec, info.has_audio) == ("h264", "aac", True)
    assert info.duration_s == pytest.approx(1.0, abs=0.2)
    assert info.taken is not None and info.taken.utc_only
    assert info.taken.when == datetime(2025, 10, 20, 9, 0, tzinfo=timezone.utc)
    assert info.position == (52.52, 13.405)


def test_mov_with_apple_keys(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mov", VideoSpec(
        codec="libx265", creation_time="2025-10-20T09:00:05.000000Z", apple_creationdate="2025-10-20T11:00:00+0200",
        location="+48.8584+002.2945+035.000/", make="Apple", model="iPhone 15")))
    assert info.video_codec == "hevc"
    assert info.taken is not None and info.taken.source == "quicktime" and not info.taken.utc_only
    assert info.taken.when == datetime(2025, 10, 20, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    assert info.camera_model == "Apple iPhone 15"
    assert info.position == (48.8584, 2.2945)


def test_vp9_matroska(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mkv", VideoSpec(codec="libvpx-vp9",
                                                          creation_time="2025-10-20T09:00:00.000000Z")))
    assert (info.kind.format if info.kind else None, info.video_codec) == ("matroska", "vp9")
    assert info.taken is not None and info.taken.when.year == 2025


def refusal(path: Path) -> str:
    info = probe(path)
    assert info.refusal, f"{path.name} should be refused"
    return info.refusal


def test_broken_inputs_are_refusals(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert "empty" in refusal(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("this is not a video\n")
    assert "text file" in refusal(tmp_path / "text.mp4")
    (tmp_path / "noise.mov").write_bytes(os.urandom(4096))
    assert "unrecognised format" in refusal(tmp_path / "noise.mov")
    jpeg = write_image(tmp_path / "big.jpg", ImageSpec(size=(640, 480), taken="2020:01:01 00:00:00"))
    (tmp_path / "cut.jpg").write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    assert "truncated" in refusal(tmp_path / "cut.jpg")
    video = write_video(tmp_path / "v.mp4", VideoSpec(seconds=2))
    (tmp_path / "cut.mp4").write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    assert "MP4" in refusal(tmp_path / "cut.mp4")
    (tmp_path / "dir.jpg").mkdir()
    assert "not a regular file" in refusal(tmp_path / "dir.jpg")
    assert "cannot read file" in refusal(tmp_path / "missing.jpg")


def test_fifo_and_socket_are_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.mp4")
    assert "not a regular file" in refusal(tmp_path / "pipe.mp4")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.jpg"))
        assert "not a regular file" in refusal(tmp_path / "sock.jpg")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.jpg", PHOTO)
    path.chmod(0)
    assert "permission denied" in refusal(path)


@pytest.mark.parametrize("ext", [".mkv", ".ts"])
def test_a_streamable_container_cut_in_half_still_reads_as_complete(tmp_path: Path, ext: str) -> None:
    """Why "closed and the container is complete" cannot be a shortcut past settle_s: half a
    Matroska or MPEG-TS clip probes without a refusal (docs/design/writers.md, "Closing is a hint, not proof")."""
    data = write_video(tmp_path / f"whole{ext}", VideoSpec(seconds=3)).read_bytes()
    half = tmp_path / f"half{ext}"
    half.write_bytes(data[: len(data) // 2])
    assert probe(half).refusal is None


def test_gif_xmp_keywords_are_read(tmp_path: Path) -> None:
    """Pillow does not read a GIF's XMP; the prober does (Adobe's XMP application extension,
    with its 258-byte "magic trailer"), as exiftool does."""
    gif = write_image(tmp_path / "a.gif", ImageSpec())
    packet = (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              b"<rdf:Description xmlns:dc='http://purl.org/dc/elements/1.1/'><dc:subject><rdf:Bag>"
              b"<rdf:li>trail</rdf:li><rdf:li>deer</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF>"
              b"</x:xmpmeta>")
    trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    data = gif.read_bytes()
    gif.write_bytes(data[:-1] + b"\x21\xff\x0bXMP DataXMP" + packet + trailer + data[-1:])
    assert probe(gif).keywords == ("trail", "deer")


def test_the_corpus_gif_keywords_agree_with_exiftool(corpus: Path) -> None:
    assert probe(corpus / "images/other/photo.gif").keywords == ("foobarisawesome",)


@pytest.mark.parametrize("ext", [".heic", ".avif"])
def test_a_heif_cut_short_is_refused_as_truncated_even_when_its_image_still_decodes(tmp_path: Path, ext: str) -> None:
    """The promise does not depend on the decoder: a box that ends past the file's end is a
    copy that stopped. The last box here claims 4 KiB more than is left, which no decoder
    needs (pillow-heif opens the image either way), yet the file is refused."""
    whole = write_image(tmp_path / f"whole{ext}", ImageSpec(size=(320, 240), taken="2021:05:01 10:00:00"))
    assert probe(whole).refusal is None
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(whole.read_bytes() + (4096 + 8).to_bytes(4, "big") + b"free" + b"\0" * 16)
    assert refusal(cut) == "image data is truncated (the file was cut short)"
    from PIL import Image
    with Image.open(cut) as im:  # the decoder alone would have taken it
        im.load()
