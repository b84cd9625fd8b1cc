"""Logging: structlog, JSON lines when not on a TTY (journald), readable console on a TTY.

Every event passes `redact_keys`, so even a key that slipped into an exception
message is masked before it reaches a log line.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections import deque
from typing import Any, MutableMapping, Optional, TextIO, cast

import structlog

_KEY_PATTERN = re.compile(r"sk-(?:mavi|mai)-[A-Za-z0-9_\-]{4,}")


def redact(text: str) -> str:
    """Mask anything shaped like a memories.ai key."""
    return _KEY_PATTERN.sub("sk-***", text)


def redact_keys(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value)
        elif isinstance(value, BaseException):
            event[key] = redact(f"{value.__class__.__name__}: {value}")
    return event


_VARYING = frozenset({"timestamp", "repeated"})  # keys that differ between otherwise identical lines


class RepeatFilter:
    """Drops a warning or error identical in every key but its timestamp (event, error text
    and path included) to one logged in the last `window_s` seconds; the next one that passes
    carries `repeated=N`. A box with a dead uplink logs the same failure once a minute, not
    once per retry; two files' rejections are two lines, even with the same reason."""

    def __init__(self, window_s: float = 60.0, clock: Any = None) -> None:
        self.window_s = window_s
        self.clock = clock or time.monotonic
        self._last: dict[tuple[tuple[str, str], ...], tuple[float, int]] = {}

    def __call__(self, _logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if method not in ("warning", "error", "critical"):
            return event
        key = tuple(sorted((k, repr(v)) for k, v in event.items() if k not in _VARYING))
        now = self.clock()
        seen = self._last.get(key)
        if seen is not None and now - seen[0] < self.window_s:
            self._last[key] = (seen[0], seen[1] + 1)
            raise structlog.DropEvent
        if seen is not None and seen[1]:
            event["repeated"] = seen[1]
        if len(self._last) > 10000:
            self._last.clear()
        self._last[key] = (now, 0)
        return event


class Recent:
    """The last events logged (info and up, as redacted and let through by RepeatFilter): the
    web page's "last events". A bounded ring, values cut short: its cost does not grow with
    the rate of events or the size of an error."""

    def __init__(self, size: int = 100) -> None:
        self._ring: deque[dict[str, Any]] = deque(maxlen=size)

    def __call__(self, _logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if method != "debug":
            self._ring.append({k: v if isinstance(v, (int, float, bool)) or v is None else str(v)[:300]
                               for k, v in event.items()})
        return event

    def last(self, n: int) -> list[dict[str, Any]]:
        """The newest `n`, newest first."""
        return list(self._ring)[-n:][::-1]


recent = Recent()  # process-wide, as structlog's configuration is


class _Lines:
    """The log stream both structlog and stdlib's handler (watchdog, urllib3) write to: one
    lock for both, one write per line. Each had a lock of its own, and structlog's print
    writes the line and its newline apart, so a line from another thread could land between
    them: two JSON objects on one journal line, neither parseable."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            written = self.stream.write(text)
            self.stream.flush()
            return written

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


class _NoPaths(logging.Filter):
    """urllib3's debug lines name each request's path and query: a signed URL's signature, a
    health ping's or a notification's token. Kept: host, method and status."""

    _REQUEST = re.compile(r'"(\w+) \S+ (HTTP/[\d.]+)"')

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("urllib3"):
            record.msg, record.args = self._REQUEST.sub(r'"\1 (path not logged) \2"', record.getMessage()), ()
        return True


def configure(level: str = "info", *, json: Optional[bool] = None, stream: Optional[TextIO] = None) -> None:
    """Set up structlog and route stdlib loggers through it. `json=None`: JSON unless a TTY."""
    stream = cast(TextIO, _Lines(stream or sys.stderr))
    use_json = (not stream.isatty()) if json is None else json
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_keys,
    ]
    repeats = RepeatFilter()
    renderer: Any = structlog.processors.JSONRenderer() if use_json else \
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
    structlog.configure(
        processors=[*shared, repeats, recent, structlog.processors.format_exc_info if use_json else _noop, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(stream),  # the line and its newline in one write
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.addFilter(_NoPaths())
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer], foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _noop(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event


def get_logger(name: str = "mavi_sync") -> Any:
    return structlog.get_logger(name)
