"""The prober against real files from real cameras, with exiftool's reading as the reference
(../shared/media/MANIFEST.tsv). Skipped, with the reason, when the corpus is absent."""

from __future__ import annotations

import math
import signal
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import pytest

from mavi_sync.media.probe import probe
from mavi_sync.media.values import parse_datetime, parse_offset

from tests.conftest import CORPUS, corpus_rows

pytestmark = pytest.mark.corpus
ROWS = corpus_rows()
GOOD = [r for r in ROWS if not r["file"].startswith("corrupt/")]
CORRUPT = [r for r in ROWS if r["file"].startswith("corrupt/")]

# Where exiftool reads a value from a maker-specific block that no general-purpose library
# exposes, the prober falls back (to the file name or mtime) by design. Each is listed with why.
NOT_READ: dict[tuple[str, str], str] = {}
# Where the prober reads more than exiftool: the value is checked against the original instead.
READS_MORE = {
    "video/apple-iphone6_remux.mkv": "FFmpeg copied the iPhone's Apple keys into Matroska tags; exiftool does "
                                     "not read them there, the prober does (as in the original MOV)",
}


ABSENT = (f"real-camera corpus not found at {CORPUS} (it lives in ../shared/media beside the repo; "
          "set MAVI_MEDIA_CORPUS to use another copy)")


def params(rows: list[dict[str, str]]) -> list:
    """One case per row; without the corpus, one case that skips saying why."""
    if not rows:
        return [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(r, id=r["file"]) for r in rows]


def _float(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def expected_instant(row: dict[str, str]) -> Optional[datetime]:
    """exiftool's capture time as an aware instant when it has an offset, naive otherwise."""
    for text in (row["quicktime_creation_date"], row["datetime_original"]):
        when = parse_datetime(text, row["subsec"] or None, row["offset_original"] or None)
        if when is not None:
            return when
    created = parse_datetime(row["create_date_utc"])
    return created.replace(tzinfo=timezone.utc) if created is not None else None


DATED = [r for r in GOOD if expected_instant(r) is not None]
WITH_CAMERA = [r for r in GOOD if r["make"].strip() or r["model"].strip()]
WITH_GPS = [r for r in GOOD if r["gps_lat"] or r["gps_lon"]]
WITH_OFFSET = [r for r in GOOD if parse_offset(r["offset_original"]) is not None]


@pytest.fixture(autouse=True)
def _need_corpus(corpus: Path) -> None:
    """Every test here needs the corpus; the fixture skips with a reason when it is absent."""


@pytest.mark.parametrize("row", params(DATED))
def test_date_agrees_with_exiftool(row: dict[str, str]) -> None:
    expected = expected_instant(row)
    assert expected is not None
    if (row["file"], "date") in NOT_READ:
        pytest.skip(NOT_READ[(row["file"], "date")])
    if row["file"] in READS_MORE:
        pytest.skip(READS_MORE[row["file"]])
    info = probe(CORPUS / row["file"])
    assert info.taken is not None, "exiftool has a date, the prober found none"
    got = info.taken.when
    if expected.tzinfo is not None and got.tzinfo is not None:
        assert got == expected
        assert got.utcoffset() == expected.utcoffset() or info.taken.utc_only
    else:
        assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)


# exiftool's numeric output (-n) gives an AVCHD camcorder's maker code, not its name (H264.pm).
MAKER_CODES = {"264": "Sony", "259": "Panasonic", "4113": "Canon", "4356": "JVC"}


@pytest.mark.parametrize("row", params(WITH_CAMERA))
def test_camera_agrees_with_exiftool(row: dict[str, str]) -> None:
    make, model = row["make"].strip(), row["model"].strip()
    make = MAKER_CODES.get(make, make)
    if (row["file"], "camera") in NOT_READ:
        pytest.skip(NOT_READ[(row["file"], "camera")])
    info = probe(CORPUS / row["file"])
    assert info.camera_model is not None
    for part in filter(None, (make.split()[0] if make else "", model)):
        assert part.lower() in info.camera_model.lower()
    assert info.camera_model.isprintable()


@pytest.mark.parametrize("row", params(WITH_GPS))
def test_gps_agrees_with_exiftool(row: dict[str, str]) -> None:
    lat, lon = _float(row["gps_lat"]), _float(row["gps_lon"])
    info = probe(CORPUS / row["file"])
    real = lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0, 0)
    if not real:
        assert info.position is None, "an invalid or empty GPS fix must not be sent"
        return
    assert info.position == pytest.approx((lat, lon), abs=1e-4)


@pytest.mark.parametrize("row", params(WITH_OFFSET))
def test_offset_agrees_with_exiftool(row: dict[str, str]) -> None:
    offset = parse_offset(row["offset_original"])
    info = probe(CORPUS / row["file"])
    assert info.taken is not None and info.taken.when.utcoffset() == offset


@pytest.mark.parametrize("row", params(GOOD))
def test_type_comes_from_content(row: dict[str, str]) -> None:
    info = probe(CORPUS / row["file"])
    assert info.kind is not None
    mime = row["mime"]
    if mime:
        assert info.kind.family == mime.split("/")[0]
    if row["exiftool_type"] == "JPEG":
        assert info.kind.format == "jpeg"  # wrong-extension files included
    if row["decodes"] == "yes":
        assert info.refusal is None, info.refusal


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout()


@pytest.mark.parametrize("row", params(CORRUPT))
def test_corrupt_files_are_refused_or_valid_never_raise_or_hang(row: dict[str, str]) -> None:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        info = probe(CORPUS / row["file"])
    except _Timeout:
        pytest.fail("the prober hung for 20 s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if info.refusal is not None:
        assert len(info.refusal) > 10 and str(CORPUS) not in info.refusal
    else:
        assert info.kind is not None
    if row["decodes"] == "no":
        assert info.refusal is not None, "exiftool/FFmpeg say this does not decode"


def test_remux_reads_the_same_as_its_original(corpus: Path) -> None:
    original = probe(corpus / "video/apple-iphone6_h264_iso6709.mov")
    remux = probe(corpus / "video/apple-iphone6_remux.mkv")
    assert (remux.taken, remux.position, remux.camera_model) == \
        (original.taken, original.position, original.camera_model)


def test_the_corpus_was_read() -> None:
    assert len(GOOD) >= 50 and len(CORRUPT) >= 30, "MANIFEST.tsv parsing lost rows"
    assert len(DATED) >= 40 and len(WITH_GPS) >= 30 and len(WITH_OFFSET) >= 5
