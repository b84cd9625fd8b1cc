"""Dates in camera, phone and NVR file names."""

from __future__ import annotations

from datetime import datetime

import pytest

from mavi_sync.media.filename import date_from_name

T = datetime(2025, 10, 20, 11, 0, 0)


@pytest.mark.parametrize("name", [
    "IMG_20251020_110000.jpg", "VID_20251020_110000.mp4", "PXL_20251020_110000123.mp4", "20251020110000.mp4",
    "ch01_20251020_110000.mp4", "ch01_20251020110000.mp4", "RecM01_20251020_110000_110500_0.mp4",
    "2025-10-20_11-00-00.mp4", "Screenshot 2025-10-20 at 11.00.00.png", "IMG_20251020_110000.123.jpg",
])
def test_names_with_date_and_time(name: str) -> None:
    assert date_from_name(name) == (T, True)


@pytest.mark.parametrize("name", ["IMG-20251020-WA0001.jpg", "macos-screenshot_2025-10-20.png"])
def test_names_with_a_date_only(name: str) -> None:
    assert date_from_name(name) == (datetime(2025, 10, 20), False)


@pytest.mark.parametrize("name", ["DSCN0010.jpg", "video_123456789012345.mp4", "20251340110000.mp4",
                                  "2025102099.mp4", "clip.mts", "18991231_000000.jpg"])
def test_names_without_a_date(name: str) -> None:
    assert date_from_name(name) is None
