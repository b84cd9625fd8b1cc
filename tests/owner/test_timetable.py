"""rclone's --bwlimit timetable, upload windows and durations: text → moments of the week."""

from __future__ import annotations

from datetime import datetime

import pytest

from mavi_sync.owner.timetable import (Timetable, TimetableError, Windows, human_rate, next_boundary, parse_duration,
                                 parse_rate, week_second)

H = 3600
MON, TUE, SAT, SUN = 0, 86400, 5 * 86400, 6 * 86400


@pytest.mark.parametrize("text, rate", [
    ("512", 512 * 1024), ("512K", 512 * 1024), ("2M", 2 << 20), ("1.5G", 1.5 * (1 << 30)), ("100B", 100),
    ("2Mi", 2 << 20), ("2MiB", 2 << 20), ("10M:100k", 10 << 20), ("off", None), ("0", None), ("OFF", None),
    ("2m", 2 << 20), ("2mib", 2 << 20), ("2MI", 2 << 20), ("100b", 100), (".5M", 1 << 19), ("1P", 1 << 50),
    ("10M:off", 10 << 20), ("off:1M", None)])
def test_rates_read_as_rclone_reads_them(text: str, rate: float) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["2Mb", "2MB", "2KB", "2kb", "2MIB", "2Bi", "2X", "M", "-1M", "", "10M:2Mb",
                                  "nanM", "infM"])
def test_rates_rclone_refuses_are_refused_not_guessed(text: str) -> None:
    """rclone's SizeSuffix takes B (bytes), K, M, G, T, P, E with an optional "i" or "iB",
    KiB when there is none; "2Mb" and "2MB" end in a bare b/B, which it reads as bytes,
    then refuses "2M" as a number (fs/sizesuffix.go). They were taken as 2 MiB/s here, without
    a word: a bit rate typed the usual way would have been capped 8 times too high."""
    with pytest.raises(TimetableError) as refused:
        parse_rate(text)
    if text in ("2Mb", "2MB"):
        assert "bytes per second" in str(refused.value) and "0.25M" in str(refused.value), refused.value


def test_a_timetable_says_the_rates_it_means() -> None:
    assert Timetable.parse("2M").describe() == "2 MiB/s (2097152 bytes/s) all the time"
    assert Timetable.parse("off").describe() == "no cap"
    assert Timetable.parse("08:00,512 23:00,off").describe() == \
        "512 KiB/s (524288 bytes/s) from 08:00, no cap from 23:00"
    assert Timetable.parse("Mon-08:00,1.5M Sat-10:00,off").describe() == \
        "1.5 MiB/s (1572864 bytes/s) from Mon 08:00, no cap from Sat 10:00"


def test_the_issue_timetable_caps_by_day_and_lifts_at_night() -> None:
    t = Timetable.parse("08:00,2M 23:00,off")
    assert t.rate_at(MON + 7 * H) is None  # before 08:00: the day before's last entry (off)
    assert t.rate_at(TUE + 8 * H) == 2 << 20
    assert t.rate_at(SAT + 22 * H + 3599) == 2 << 20
    assert t.rate_at(SUN + 23 * H) is None


def test_day_entries_hold_until_the_next_entry_and_the_week_wraps() -> None:
    t = Timetable.parse("Mon-10:00,512 Sun-20:00,off")
    assert t.rate_at(MON + 9 * H) is None  # Sunday 20:00's "off" still holds on Monday morning
    assert t.rate_at(TUE + 12 * H) == 512 * 1024  # Monday's entry holds through the week
    assert t.rate_at(SUN + 21 * H) is None


def test_semicolons_separate_entries_too_and_a_single_rate_holds_all_week() -> None:
    assert Timetable.parse("08:00,1M;18:00,4M").rate_at(MON + 19 * H) == 4 << 20
    assert Timetable.parse("2M").rate_at(SUN + 23 * H) == 2 << 20
    assert Timetable.parse("08:00:30,1M 09:00,off").rate_at(MON + 8 * H + 31) == 1 << 20


@pytest.mark.parametrize("text", ["", "bad", "25:00,1M", "08:61,1M", "Mo-08:00,1M", "08:00,2X", "08:00,1M bad"])
def test_a_wrong_timetable_says_what_is_wrong(text: str) -> None:
    with pytest.raises(TimetableError):
        Timetable.parse(text)


def test_a_window_past_midnight_belongs_to_the_day_it_starts() -> None:
    w = Windows.parse(("23:00-07:00",))
    assert w.open_at(MON + 23 * H) and w.open_at(TUE + 6 * H) and not w.open_at(TUE + 7 * H)
    assert w.open_at(SUN + 23 * H + 10) and w.open_at(MON + 3 * H)  # Sunday night runs into Monday


def test_windows_by_day_and_whole_days() -> None:
    w = Windows.parse(("Mon-Fri 09:00-17:00", "Sat,Sun 00:00-24:00"))
    assert w.open_at(TUE + 9 * H) and not w.open_at(TUE + 17 * H) and not w.open_at(MON + 8 * H)
    assert w.open_at(SAT) and w.open_at(SUN + 86399)
    assert Windows.parse(()).open_at(MON + 3 * H)  # none: always open


@pytest.mark.parametrize("text", ["09:00", "09:00-09:00", "Mon-Fry 09:00-10:00", "9-10", "00:00-24:01"])
def test_a_wrong_window_says_what_is_wrong(text: str) -> None:
    with pytest.raises(TimetableError):
        Windows.parse((text,))


def test_the_next_change_is_the_nearest_edge_of_either() -> None:
    t, w = Timetable.parse("08:00,2M 23:00,off"), Windows.parse(("22:00-06:00",))
    assert next_boundary(MON + 7 * H, t, w) == H
    assert next_boundary(MON + 22 * H + 30 * 60, t, w) == 30 * 60
    assert next_boundary(MON, Timetable.parse("2M"), Windows()) is None


def test_week_seconds_count_from_monday() -> None:
    assert week_second(datetime(2026, 11, 30, 1, 2, 3)) == 3723  # a Monday
    assert week_second(datetime(2026, 12, 6, 0, 0, 0)) == SUN


def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400 and parse_duration("2 d") == 172800
    for bad in ("", "10", "1y", "h"):
        with pytest.raises(TimetableError):
            parse_duration(bad)
    assert human_rate(2 << 20) == "2 MiB/s" and human_rate(None) == "no cap" and human_rate(500) == "500 B/s"
