"""The tables for running unattended: [notify] (Apprise), [health] (a ping URL) and
[bandwidth] (a byte-rate timetable and upload windows). Pure, like parse.py.

URLs that carry a service's token are `KeySource`s, loaded like the API key (systemd
credential, file, environment; a clear-text value is warned about): a string is taken as
that clear-text value, a table names where the URL is.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mavi_sync.config.reader import Table
from mavi_sync.config.schema import NOTIFY_EVENTS, BandwidthConfig, HealthConfig, KeySource, NotifyConfig, NotifyTarget
from mavi_sync.owner.timetable import Timetable, TimetableError, Windows

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


def url_source(t: Table, name: str) -> KeySource:
    """`name = "…"` (clear text) or `name = { env = "…", file = "…", credential = "…" }`."""
    raw = t.value(name)
    if raw is None:
        return KeySource()
    if isinstance(raw, str):
        if "://" not in raw:
            t.problem(name, "(hidden)", "a URL such as json://host/path, or a table naming where it is "
                                        "({ env = \"…\" }, { file = \"…\" } or { credential = \"…\" })")
        return KeySource(value=raw)
    if not isinstance(raw, dict):
        t.problem(name, raw, "a URL, or a table with env, file or credential")
        return KeySource()
    sub = t.table(name)
    source = KeySource(env=sub.string("env", ""), file=sub.path("file", None), credential=sub.string("credential", ""),
                       value=sub.string("value", ""))
    sub.finish()
    if not source.is_set():
        t.problem(name, raw, "one of env, file, credential or value")
    return source


def notify(t: Table) -> NotifyConfig:
    d = NotifyConfig()
    targets = []
    for tt in t.tables("targets"):
        url = url_source(tt, "url")
        if not url.is_set():
            tt.problem("url", None, "the Apprise URL to notify (required), or where it is")
        events = tt.strings("events", NOTIFY_EVENTS)
        for event in events:
            if event not in NOTIFY_EVENTS:
                tt.problem("events", event, "events among " + ", ".join(repr(e) for e in NOTIFY_EVENTS))
        tt.finish()
        targets.append(NotifyTarget(url, tuple(e for e in events if e in NOTIFY_EVENTS)))
    digest_at = t.string("digest_at", d.digest_at)
    if digest_at and not _CLOCK.match(digest_at):
        t.problem("digest_at", digest_at, "a local time HH:MM (or HH:MM:SS), or \"\" for no digest")
        digest_at = d.digest_at
    config = NotifyConfig(
        targets=tuple(targets),
        outage_after_s=t.number("outage_after_s", d.outage_after_s, minimum=0),
        digest_at=digest_at,
        caption_words=tuple(w.strip() for w in t.strings("caption_words", d.caption_words, max_len=100)),
    )
    t.finish()
    return config


def health(t: Table) -> HealthConfig:
    d = HealthConfig()
    config = HealthConfig(ping=url_source(t, "ping"), fail=url_source(t, "fail"),
                          interval_s=t.number("interval_s", d.interval_s, minimum=1, maximum=86400))
    if config.fail.is_set() and not config.ping.is_set():
        t.problem("ping", None, "a ping URL too: fail is what is pinged instead of it while unhealthy")
    t.finish()
    return config


def bandwidth(t: Table) -> BandwidthConfig:
    limit_text = t.string("limit", "off")
    try:
        limit = Timetable.parse(limit_text)
    except TimetableError as exc:
        t.problem("limit", limit_text, f"an rclone-style timetable such as \"2M\" or \"08:00,2M 23:00,off\" ({exc})")
        limit = Timetable()
    window_texts = t.strings("windows", ())
    try:
        windows = Windows.parse(window_texts)
    except TimetableError as exc:
        t.problem("windows", list(window_texts), f"windows such as [\"23:00-07:00\", \"Sat,Sun 00:00-24:00\"] ({exc})")
        windows = Windows()
    t.finish()
    return BandwidthConfig(limit, windows)


def service_name(url: str) -> str:
    """What may be shown of a notification or ping URL: its scheme (the service), never its
    host, path or query (tokens live there: tgram://TOKEN/CHAT, ntfy://user:pass@host/topic)."""
    return urlsplit(url).scheme or "?"
