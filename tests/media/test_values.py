"""Parsing what cameras write: text, GPS, dates."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from mavi_sync.media.values import (
    clean_text, dms_to_degrees, fold_camera_model, parse_datetime, parse_iso6709, parse_offset, valid_position,
)


@pytest.mark.parametrize("raw,expected", [
    ("  Canon  ", "Canon"), (b"GoPro\x00\x00\xfc\xcdx", "GoPro"), ("HD2\x00 garbage", "HD2"),
    (b"\xff\xfe\xfa", None), ("", None), ("\x01\x02", None), (42, None), ("a\tb   c", "a b c"),
    ("caf\ufffd", None),
])
def test_clean_text(raw, expected) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("make,model,expected", [
    ("Apple", "iPhone 4", "Apple iPhone 4"), ("Canon", "Canon EOS 40D", "Canon EOS 40D"),
    ("NIKON CORPORATION", "NIKON D800E", "NIKON D800E"), (None, "X", "X"), ("FLIR", None, "FLIR"),
    ("OLYMPUS IMAGING CORP.", "TG-830", "OLYMPUS IMAGING CORP. TG-830"), (None, None, None),
])
def test_fold_camera_model(make, model, expected) -> None:
    assert fold_camera_model(make, model) == expected


def test_dms_signs_and_garbage() -> None:
    assert dms_to_degrees((43.0, 28.0, 2.814), "N") == pytest.approx(43.4674483, abs=1e-6)
    assert dms_to_degrees((122.0, 20.24, 0.0), "W") == pytest.approx(-122.3373333, abs=1e-6)
    assert dms_to_degrees(((17, 1), (46, 1), (238, 10)), b"S") == pytest.approx(-17.7732778, abs=1e-6)
    assert dms_to_degrees(((1, 0), (2, 1), (3, 1)), "N") is None  # zero denominator
    assert dms_to_degrees("junk", "N") is None
    assert dms_to_degrees((float("nan"), 0, 0), "N") is None


@pytest.mark.parametrize("lat,lon,ok", [
    (52.5, 13.4, True), (0.0, 0.0, False), (-0.0, -0.0, False), (213.6, 103.5, False),
    (45.0, 181.0, False), (math.nan, 1.0, False), (None, 1.0, False), (0.0, 13.4, True),
])
def test_valid_position(lat, lon, ok) -> None:
    assert (valid_position(lat, lon) is not None) is ok


def test_iso6709() -> None:
    assert parse_iso6709("+52.4597+013.3220+051.178/") == (52.4597, 13.322)
    assert parse_iso6709("+47.5383-2.8919+000.000/") == (47.5383, -2.8919)
    assert parse_iso6709("+51.4169-000.0806/") == (51.4169, -0.0806)
    assert parse_iso6709("garbage") is None and parse_iso6709(None) is None


def test_datetimes() -> None:
    assert parse_datetime("2008:10:22 16:28:39") == datetime(2008, 10, 22, 16, 28, 39)
    assert parse_datetime("2021:04:11 15:47:53", "054", "-05:00") == \
        datetime(2021, 4, 11, 15, 47, 53, 54000, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_datetime("2019-07-24T11:25:40+0300") == \
        datetime(2019, 7, 24, 11, 25, 40, tzinfo=timezone(timedelta(hours=3)))
    assert parse_datetime("2020-10-23T20:27:29.000000Z") == datetime(2020, 10, 23, 20, 27, 29, tzinfo=timezone.utc)
    for bad in ("0000:00:00 00:00:00", "", "2011:13:40 10:00:00", "    ", None, b"\xff", "1904:01:01 00:00:00"):
        assert parse_datetime(bad) is None


def test_offsets() -> None:
    assert parse_offset("+02:00") == timedelta(hours=2)
    assert parse_offset("-0530") == -timedelta(hours=5, minutes=30)
    assert parse_offset("Z") == timedelta(0)
    assert parse_offset("+25:00") is None and parse_offset("abc") is None
