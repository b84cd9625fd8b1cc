"""Logging: structlog, JSON lines when not on a TTY (journald), readable console on a TTY.

Every event passes `redact_keys`, so even a key that slipped into an exception
message is masked before it reaches a log line.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, MutableMapping, Optional, TextIO

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


def configure(level: str = "info", *, json: Optional[bool] = None, stream: Optional[TextIO] = None) -> None:
    """Set up structlog and route stdlib loggers through it. `json=None`: JSON unless a TTY."""
    stream = stream or sys.stderr
    use_json = (not stream.isatty()) if json is None else json
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_keys,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else \
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info if use_json else _noop, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer], foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _noop(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event


def get_logger(name: str = "mavi_sync") -> Any:
    return structlog.get_logger(name)
