"""The staging area: bounded, released after each attempt, emptied at start (real files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pytest

from mavi_sync.errors import StagingFull
from mavi_sync.media.model import Converted
from mavi_sync.pipeline.staging import Staging


def fake_jpeg(src: str, dest: str, to: str, options: Mapping[str, Any]) -> Converted:
    Path(dest).write_bytes(b"\xff\xd8" + b"x" * 1000)
    return Converted(dest, 1002, "b" * 64, 1, 1, 90, 1.0)


def test_a_staged_file_is_named_by_the_original_and_released(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "staging", 10**6, fake_jpeg)
    made = staging.to_jpeg(tmp_path / "IMG.HEIC", "a" * 64, 90, 20_000)
    assert Path(made.path) == tmp_path / "staging" / f"{'a' * 64}.jpg" and Path(made.path).exists()
    staging.release(made)
    staging.release(made)  # twice is harmless
    assert list((tmp_path / "staging").iterdir()) == []


def test_past_its_bound_a_conversion_waits_for_room(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "staging", 30_000, fake_jpeg)
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "other.jpg").write_bytes(b"x" * 15_000)
    with pytest.raises(StagingFull, match="waits for room"):
        staging.to_jpeg(tmp_path / "IMG.HEIC", "a" * 64, 90, 20_000)


def test_a_clip_reserves_its_own_size_while_it_is_made_and_sent(tmp_path: Path) -> None:
    """docs/guides/camera-folder.md, "Camera video in MPEG-TS": the clip's own size is
    reserved. Two workers remuxing side by side: the second waits for room even though the
    first one's MP4 is not written yet."""
    started: list[str] = []

    def slow_remux(src: str, dest: str, to: str, options: Mapping[str, Any]) -> Converted:
        started.append(dest)
        Path(dest).write_bytes(b"x" * 100)  # a remux in progress: far from its final size
        return Converted(dest, 100, "c" * 64, 1, 1, 0, 1.0)

    staging = Staging(tmp_path / "staging", 1_000_000, slow_remux)
    first = staging.to_mp4(tmp_path / "a.mts", "a" * 64, 600_000, None)
    with pytest.raises(StagingFull, match="needs 1 MB"):
        staging.to_mp4(tmp_path / "b.mts", "b" * 64, 600_000, None)
    assert len(started) == 1  # refused before converting anything
    staging.release(first)
    second = staging.to_mp4(tmp_path / "b.mts", "b" * 64, 600_000, None)
    staging.release(second)
    with pytest.raises(StagingFull):
        staging.to_mp4(tmp_path / "c.mts", "c" * 64, 2_000_000, None)  # more than the whole area


def test_a_failed_conversion_gives_its_room_back(tmp_path: Path) -> None:
    def broken(src: str, dest: str, to: str, options: Mapping[str, Any]) -> Converted:
        raise OSError("disk full")

    staging = Staging(tmp_path / "staging", 1_000_000, broken)
    for _ in range(3):
        with pytest.raises(OSError):
            staging.to_mp4(tmp_path / "a.mts", "a" * 64, 600_000, None)
