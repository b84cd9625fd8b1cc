"""Which names are candidates."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from mavi_sync.config.schema import FolderConfig
from mavi_sync.intake.filters import is_excluded_dir, is_selected, is_temp_name

DEFAULT = FolderConfig(path=Path("/c")).temp_patterns


@pytest.mark.parametrize("name", ["a.tmp", "a.mp4.part", "x.crdownload", "~lock.jpg", ".hidden.jpg"])
def test_temp_names(name: str) -> None:
    assert is_temp_name(name, DEFAULT)


@pytest.mark.parametrize("name", ["a.mp4", "IMG_1.JPG", "part.mp4", "a~b.jpg"])
def test_real_names(name: str) -> None:
    assert not is_temp_name(name, DEFAULT)


@pytest.mark.parametrize("name,excluded", [("@eaDir", True), ("#recycle", True), (".Trash-1000", True),
                                           (".git", True), ("2025-10-20", False), ("cam1", False)])
def test_excluded_dirs(name: str, excluded: bool) -> None:
    assert is_excluded_dir(name) is excluded


def test_include_exclude_globs() -> None:
    folder = FolderConfig(path=Path("/c"), include=["*.mp4", "*.MP4", "stills/*.jpg"], exclude=["*preview*"])
    assert is_selected(PurePosixPath("a/b/clip.mp4"), folder)
    assert is_selected(PurePosixPath("stills/a.jpg"), folder)
    assert not is_selected(PurePosixPath("other/a.jpg"), folder)
    assert not is_selected(PurePosixPath("clip_preview.mp4"), folder)
    assert not is_selected(PurePosixPath("clip.mp4.part"), folder)


@pytest.mark.parametrize("include", [["*"], ["*.txt", "*.mp4"]])
def test_a_caption_sidecar_is_never_a_candidate_whatever_the_globs(include: list[str]) -> None:
    folder = FolderConfig(path=Path("/c"), include=include, caption_sidecar="beside")
    assert not is_selected(PurePosixPath("cam1/clip.mp4.caption.txt"), folder)
    assert not is_selected(PurePosixPath("clip.mp4.caption.txt"), FolderConfig(path=Path("/c"), include=include))
    assert is_selected(PurePosixPath("cam1/clip.mp4"), folder) and is_selected(PurePosixPath("notes.txt"), folder)
