"""Pure parsers for the values cameras write: text, GPS and timestamps.

Every function takes what a library handed over (often garbage from a broken
camera or a fuzzer) and returns a clean value or None. None of them raise.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

MAX_TEXT = 512


def clean_text(raw: Any) -> Optional[str]:
    """Printable text or None: cut at the first NUL (C-string semantics, as exiftool
    does), trim padding, and refuse anything with control characters or mojibake."""
    if isinstance(raw, bytes):
        raw = raw.split(b"\x00", 1)[0]
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str):
        return None
    text = re.sub(r"[ \t\r\n]+", " ", raw.split("\x00", 1)[0]).strip()
    if not text or len(text) > MAX_TEXT:
        return None
    if any(not ch.isprintable() for ch in text) or "\ufffd" in text:
        return None
    return text


def fold_camera_model(make: Optional[str], model: Optional[str]) -> Optional[str]:
    """'Apple' + 'iPhone 4' → 'Apple iPhone 4'; 'Canon' + 'Canon EOS 40D' → 'Canon EOS 40D';
    'NIKON CORPORATION' + 'NIKON D800E' → 'NIKON D800E' (the make is not repeated)."""
    if not model:
        return make or None
    if not make:
        return model
    brand = make.split()[0].lower()
    if model.lower().startswith(brand) or model.lower().startswith(make.lower()):
        return model
    return f"{make} {model}"


def _ratio(value: Any) -> Optional[float]:
    try:
        if isinstance(value, tuple) and len(value) == 2:
            num, den = value
            result = float(num) / float(den)
        else:
            result = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def dms_to_degrees(dms: Any, ref: Any) -> Optional[float]:
    """EXIF (deg, min, sec) + 'N'/'S'/'E'/'W' → signed decimal degrees, or None."""
    if not isinstance(dms, (tuple, list)) or not 1 <= len(dms) <= 3:
        return None
    parts = [_ratio(x) for x in dms]
    if any(p is None for p in parts):
        return None
    degrees = sum(p / 60 ** i for i, p in enumerate(parts))  # type: ignore[operator]
    ref_text = clean_text(ref) if ref is not None else None
    if ref_text is not None and ref_text.upper() in ("S", "W"):
        degrees = -degrees
    return degrees


def valid_position(lat: Optional[float], lon: Optional[float]) -> Optional[tuple[float, float]]:
    """(lat, lon) when both are real coordinates; None for out of range, NaN, or the
    exact 0,0 that phones write for an empty fix."""
    if lat is None or lon is None:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    if lat == 0.0 and lon == 0.0:
        return None
    return (round(lat, 7), round(lon, 7))


_ISO6709 = re.compile(r"^\s*([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?(?:CRS[^/]*)?/?\s*$")


def parse_iso6709(text: Any) -> Optional[tuple[float, float]]:
    """'+52.4597+013.3220+051.178/' → (52.4597, 13.322); decimal-degree form only."""
    clean = clean_text(text)
    if not clean:
        return None
    match = _ISO6709.match(clean)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


_EXIF_DT = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?")


def parse_offset(text: Any) -> Optional[timedelta]:
    """'+02:00', '-0500', 'Z' → timedelta; None when absent or malformed."""
    clean = clean_text(text)
    if not clean:
        return None
    if clean in ("Z", "z"):
        return timedelta(0)
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", clean)
    if not match:
        return None
    hours, minutes = int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(hours=hours, minutes=minutes)


def parse_datetime(text: Any, subsec: Any = None, offset: Any = None) -> Optional[datetime]:
    """EXIF/XMP/container date text → datetime (aware when an offset is known, else naive).

    Accepts 'YYYY:MM:DD HH:MM:SS', ISO 8601 with 'T', fractions, and a trailing zone.
    Returns None for empty, zeroed ('0000:00:00 00:00:00') or impossible dates.
    """
    clean = clean_text(text)
    if not clean:
        return None
    match = _EXIF_DT.match(clean)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or (clean_text(subsec) or "")
    micro = int((fraction + "000000")[:6]) if fraction.isdigit() else 0
    try:
        value = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None
    if year < 1970:  # camera clocks never set: 1904/1900 epochs, zeroed fields
        return None
    zone = parse_offset(match.group(8)) if match.group(8) else parse_offset(offset)
    return value.replace(tzinfo=timezone(zone)) if zone is not None else value
