"""Capture dates that cameras, phones and NVRs write into file names.

Matches e.g. IMG_20251020_110000.jpg, VID_20251020_110000.mp4, PXL_20251020_110000123.mp4,
20251020110000.mp4, ch01_20251020_110000.mp4, ch01_20251020110000.mp4,
RecM01_20251020_110000_110500.mp4, Screenshot 2019-05-21 at 10.11.12.png,
2025-10-20_11-00-00.mp4, IMG-20251020-WA0001.jpg (date only).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

# Year 1990..2099, then month, day; separators optional. Then an optional time.
_PATTERN = re.compile(
    r"(?<!\d)((?:199|20\d)\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])"
    r"(?:(?:[ T_\-.]|[ _]at[ _])?([01]\d|2[0-3])[-_.:h]?([0-5]\d)[-_.:m]?([0-5]\d)(?:[._]?\d{3})?)?(?!\d)"
)


def date_from_name(name: str) -> Optional[tuple[datetime, bool]]:
    """(local wall-clock datetime, has_time) from the first date in `name`, or None."""
    for match in _PATTERN.finditer(name):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        has_time = match.group(4) is not None
        hour, minute, second = (int(match.group(i)) for i in (4, 5, 6)) if has_time else (0, 0, 0)
        try:
            return datetime(year, month, day, hour, minute, second), has_time
        except ValueError:
            continue
    return None
