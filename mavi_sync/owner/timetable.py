"""When uploads may go and how fast: rclone's `--bwlimit` timetable and upload windows,
read from text and asked about a moment of the week. Pure: no clock, no I/O.

A timetable is rclone's syntax, so a line copied from an rclone setup means the same here:
entries separated by spaces (or `;`), each `[DAY-]HH:MM,RATE`; or a single RATE for all
the time. RATE is bytes per second with rclone's binary suffixes, KiB when none is given
("512" = 512 KiB/s, "2M" = 2 MiB/s, "1.5G"); "off" or 0 is no cap. What rclone refuses is
refused ("2Mb", "2MB": its suffix parser reads a bare B as bytes, then "2M" is no number),
never guessed at. An entry without a day holds every day from its time; the rate before
the first entry of a day is the last one before it (the week wraps). `HH:MM:SS` is taken too.

A window is `[DAYS ]HH:MM-HH:MM`, DAYS "Mon", "Mon-Fri" or "Sat,Sun"; a window past
midnight ("23:00-07:00") belongs to the day it starts; "00:00-24:00" is the whole day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

WEEK_S = 7 * 86400
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}
_NUMBER = re.compile(r"^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")  # what Go's ParseFloat reads, less Inf/NaN
_EXPECTED = ("bytes per second, as rclone reads them: 512 (KiB/s), 512K, 2M, 2Mi or 2MiB (MiB/s), 1.5G, "
             "100B (bytes/s) or off")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)", re.IGNORECASE)
_DURATION_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class TimetableError(ValueError):
    """Text that is not a timetable, window or duration; the message says what was expected."""


def week_second(moment: datetime) -> int:
    """Seconds since Monday 00:00 of `moment`'s week, on its own wall clock."""
    return moment.weekday() * 86400 + moment.hour * 3600 + moment.minute * 60 + moment.second


def parse_rate(text: str) -> Optional[float]:
    """"2M" → 2097152.0 bytes/s; "off" and 0 → None (no cap). rclone's "UP:DOWN" is read
    whole (both must be rates) and its UP kept: uploads are all mavi-sync does."""
    up, sep, down = text.strip().partition(":")
    if sep:
        _size(down, text)
    return _size(up, text)


def _size(value: str, text: str) -> Optional[float]:
    """One rate, as rclone's SizeSuffix.Set reads it (fs/sizesuffix.go): a last character
    that is a digit means KiB; a bare "b"/"B" means bytes unless it ends "iB" after a unit
    letter; a trailing "i"/"I" needs a unit letter before it."""
    if value.lower() == "off":
        return None
    number, unit = value, 1 << 10
    if value[-1:] in ("b", "B") and value[-2:-1] == "i":
        number, unit = value[:-3], _UNITS.get(value[-3:-2].lower(), 0)
    elif value[-1:] in ("b", "B"):
        number, unit = value[:-1], 1
    elif value[-1:] in ("i", "I"):
        number, unit = value[:-2], _UNITS.get(value[-2:-1].lower(), 0)
    elif value[-1:].lower() in _UNITS:
        number, unit = value[:-1], _UNITS[value[-1:].lower()]
    if not unit or not _NUMBER.match(number):
        raise TimetableError(f"{text!r} is not a rate rclone reads: {_EXPECTED}{_bits_hint(value)}")
    rate = float(number) * unit
    return rate if rate > 0 else None


def _bits_hint(value: str) -> str:
    """"2Mb" may mean megabits: say what it would be in bytes (rclone's own advice: divide by 8)."""
    m = re.match(r"^(\d+(?:\.\d+)?)([kKmMgG])[bB]$", value)
    if not m:
        return ""
    return (f"; a rate in bits is divided by 8: {m.group(1)} {m.group(2).upper()}bit/s is about "
            f"{float(m.group(1)) / 8:g}{m.group(2).upper()}")


def _time_of_day(text: str, *, end: bool = False) -> int:
    m = _TIME.match(text)
    if not m:
        raise TimetableError(f"{text!r} is not a time like 08:00")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if mi > 59 or s > 59 or h > 24 or (h == 24 and (mi or s or not end)):
        raise TimetableError(f"{text!r} is not a time of day (00:00 to 23:59{', or 24:00' if end else ''})")
    return h * 3600 + mi * 60 + s


def _day(text: str) -> int:
    name = text.strip().lower()
    for i, full in enumerate(_FULL_DAYS):
        if name in (full[:3], full):
            return i
    raise TimetableError(f"{text!r} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def _days(text: str) -> list[int]:
    """"Mon" → [0]; "Mon-Fri" → [0..4]; "Sat,Sun" → [5, 6]; "Fri-Mon" wraps."""
    out: list[int] = []
    for part in text.split(","):
        first, sep, last = part.partition("-")
        a = _day(first)
        b = _day(last) if sep else a
        out += [(a + i) % 7 for i in range((b - a) % 7 + 1)]
    return sorted(set(out))


@dataclass(frozen=True)
class Timetable:
    """Rates from moments of the week: (week second, bytes/s or None), sorted."""

    slots: tuple[tuple[int, Optional[float]], ...] = ()
    text: str = "off"
    entries: tuple[tuple[str, Optional[float]], ...] = (("", None),)  # (from when, as written; rate)

    @classmethod
    def parse(cls, text: str) -> "Timetable":
        entries = [e for e in re.split(r"[\s;]+", text.strip()) if e]
        if not entries:
            raise TimetableError("an empty timetable (write off for no cap)")
        if len(entries) == 1 and "," not in entries[0]:
            rate = parse_rate(entries[0])
            return cls(((0, rate),), text.strip(), (("", rate),))
        slots: dict[int, Optional[float]] = {}
        described: list[tuple[str, Optional[float]]] = []
        for entry in entries:
            when, sep, rate_text = entry.partition(",")
            if not sep:
                raise TimetableError(f"{entry!r}: each entry of a timetable is [DAY-]HH:MM,RATE")
            day, dash, clock = when.rpartition("-") if "-" in when else ("", "", when)
            seconds = _time_of_day(clock)
            rate = parse_rate(rate_text)
            for d in ([_day(day)] if dash else range(7)):
                slots[d * 86400 + seconds] = rate
            described.append((f"{_FULL_DAYS[_day(day)][:3].title()} {clock}" if dash else clock, rate))
        return cls(tuple(sorted(slots.items())), text.strip(), tuple(described))

    def describe(self) -> str:
        """What the timetable means, in rates a person reads: "2 MiB/s (2097152 bytes/s) all
        the time", "512 KiB/s (524288 bytes/s) from 08:00, no cap from 23:00"."""
        def exact(rate: Optional[float]) -> str:
            return "no cap" if rate is None else f"{human_rate(rate)} ({rate:.0f} bytes/s)"

        if len(self.entries) == 1 and not self.entries[0][0]:
            rate = self.entries[0][1]
            return exact(rate) + (" all the time" if rate is not None else "")
        return ", ".join(f"{exact(rate)} from {when}" for when, rate in self.entries)

    def rate_at(self, second: int) -> Optional[float]:
        """The cap at `second` of the week (week_second), bytes/s; None = no cap."""
        if not self.slots:
            return None
        current = self.slots[-1][1]  # before the week's first slot: the week's last
        for start, rate in self.slots:
            if start > second:
                break
            current = rate
        return current

    def boundaries(self) -> list[int]:
        return [start for start, _ in self.slots] if len(self.slots) > 1 else []


@dataclass(frozen=True)
class Windows:
    """Spans of the week during which uploads may go: (start, end) week seconds, end may
    pass the week's end (a Sunday night window). None of them = always open."""

    spans: tuple[tuple[int, int], ...] = ()
    texts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, texts: tuple[str, ...]) -> "Windows":
        spans: list[tuple[int, int]] = []
        for text in texts:
            days_text, _, hours = text.strip().rpartition(" ")
            start_text, sep, end_text = hours.partition("-")
            if not sep:
                raise TimetableError(f"{text!r} is not a window like 23:00-07:00 or Mon-Fri 09:00-17:00")
            start, end = _time_of_day(start_text), _time_of_day(end_text, end=True)
            if start == end:
                raise TimetableError(f"{text!r} is empty: its start and end are the same time")
            length = (end - start) % 86400 or 86400
            for d in (_days(days_text) if days_text.strip() else range(7)):
                spans.append((d * 86400 + start, d * 86400 + start + length))
        return cls(tuple(sorted(spans)), tuple(texts))

    def open_at(self, second: int) -> bool:
        if not self.spans:
            return True
        return any(start <= s < end for start, end in self.spans for s in (second, second + WEEK_S))

    def boundaries(self) -> list[int]:
        return sorted({edge % WEEK_S for span in self.spans for edge in span})


def next_boundary(second: int, *tables: "Timetable | Windows") -> Optional[int]:
    """Seconds from `second` to the next moment any of `tables` may change, or None."""
    edges = sorted({edge for table in tables for edge in table.boundaries()})
    if not edges:
        return None
    return min((edge - second) % WEEK_S or WEEK_S for edge in edges)


def parse_duration(text: str) -> float:
    """"90s", "15m", "2h", "1d", "1h30m" → seconds."""
    compact = text.strip()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise TimetableError(f"{text!r} is not a duration like 30m, 2h, 1d or 1h30m")
    return sum(float(n) * _DURATION_S[unit.lower()] for n, unit in parts)


def human_rate(rate: Optional[float]) -> str:
    """2097152.0 → "2 MiB/s"; None → "no cap"."""
    if rate is None:
        return "no cap"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if rate >= size:
            return f"{rate / size:.3g} {unit}/s"
    return f"{rate:.0f} B/s"
