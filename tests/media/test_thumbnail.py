"""A still of a clip at a search hit's start, made from the local file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.errors import ConversionError
from mavi_sync.media.thumbnail import still_at


def red(jpeg: bytes) -> int:
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    return int(image.getpixel((image.width // 2, image.height // 2))[0])


def painted(frame: int) -> int:
    """The red write_video paints frame `frame` with (mavi_sync/dev/samples.py)."""
    return (frame * 37) % 256


def test_the_still_is_the_frame_at_the_moment_asked(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "c.mp4", VideoSpec(seconds=4.0, fps=10, size=(160, 120)))
    for seconds, frame in ((0.0, 0), (1.0, 10), (3.0, 30), (2.55, 26), (60.0, 39)):  # past the end: the last
        assert abs(red(still_at(clip, seconds)) - painted(frame)) <= 10, seconds
    assert Image.open(io.BytesIO(still_at(clip, 0.0))).size == (160, 120)  # never enlarged
    assert Image.open(io.BytesIO(still_at(clip, 1.0, width=80))).size == (80, 60)


def test_a_file_without_video_is_said_plainly(tmp_path: Path) -> None:
    text = tmp_path / "t.mp4"
    text.write_text("not a video")
    with pytest.raises(ConversionError, match="cannot be read as video"):
        still_at(text, 1.0)
