"""The staging area: bounded, released after each attempt, emptied at start (real files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pytest

from mavi_sync.errors import StagingFull
from mavi_sync.media.model import Converted
from mavi_sync.staging import Staging


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
