"""The capture-time chain and the `datetime_taken` value."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from mavi_sync.media.capture import resolve_capture
from mavi_sync.media.model import Taken

BERLIN = ZoneInfo("Europe/Berlin")


def test_exif_with_offset_keeps_the_camera_wall_clock() -> None:
    when = datetime(2021, 4, 11, 15, 47, 53, tzinfo=timezone(timedelta(hours=-5)))
    cap = resolve_capture(Taken(when, "exif"), "x.jpg", 0, BERLIN)
    assert cap.upload_value("local") == "2021-04-11 15:47:53"
    assert cap.upload_value("utc") == "2021-04-11 20:47:53"
    assert cap.offset_from_file and cap.instant.utcoffset() == timedelta(hours=-5)


def test_naive_local_time_is_read_in_the_folder_zone_including_dst() -> None:
    summer = resolve_capture(Taken(datetime(2025, 7, 1, 12, 0), "exif"), "x.jpg", 0, BERLIN)
    winter = resolve_capture(Taken(datetime(2025, 1, 1, 12, 0), "exif"), "x.jpg", 0, BERLIN)
    assert summer.upload_value("utc") == "2025-07-01 10:00:00"
    assert winter.upload_value("utc") == "2025-01-01 11:00:00"
    assert summer.upload_value("local") == "2025-07-01 12:00:00" and not summer.offset_from_file


def test_quicktime_utc_is_shown_in_the_folder_zone() -> None:
    utc = datetime(2019, 7, 24, 8, 25, 57, tzinfo=timezone.utc)
    cap = resolve_capture(Taken(utc, "container", utc_only=True), "x.mp4", 0, BERLIN)
    assert cap.upload_value("local") == "2019-07-24 10:25:57"
    assert cap.upload_value("utc") == "2019-07-24 08:25:57"


def test_fallbacks_file_name_then_mtime() -> None:
    by_name = resolve_capture(None, "ch01_20251020_110000.mp4", 0, BERLIN)
    assert (by_name.source, by_name.upload_value("local")) == ("filename", "2025-10-20 11:00:00")
    assert by_name.upload_value("utc") == "2025-10-20 09:00:00"
    mtime = datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone.utc).timestamp()
    by_mtime = resolve_capture(None, "clip.mp4", mtime, BERLIN)
    assert (by_mtime.source, by_mtime.upload_value("local")) == ("mtime", "2024-02-03 05:05:06")


def test_embedded_beats_file_name() -> None:
    cap = resolve_capture(Taken(datetime(2001, 1, 1, 1, 1, 1), "exif"), "IMG_20251020_110000.jpg", 0, BERLIN)
    assert cap.source == "exif" and cap.local.year == 2001
