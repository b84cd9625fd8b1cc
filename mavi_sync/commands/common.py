"""What every command shares: exit codes, the --config help, where a config's ledger is,
JSON on stdout, the --since/--until reader, and the log setup of the commands that sync."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional, TextIO

from mavi_sync.config import Config, default_config_path, load_config
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.location import ledger_path_for
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import configure, get_logger

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

CONFIG_HELP = ("config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, "
               "/etc/mavi-sync/config.toml)")


def print_json(data: object) -> None:
    """JSON on stdout as valid UTF-8: non-ASCII text stays readable, and the bytes of a
    non-UTF-8 file name (kept as surrogates) become \\udcXX escapes instead of raw bytes
    that would make the whole document unreadable to a JSON parser."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    print(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def config_at(path: Optional[Path]) -> Config:
    """The config at `path`, or at the default place; raises ConfigError."""
    return load_config(path or default_config_path())


def ledger_path(config: Config) -> Path:
    """Where the config's SQLite ledger is (or would be)."""
    return ledger_path_for(config.ledger.path, config.source)


def existing_ledger(config: Config) -> "Ledger | contextlib.AbstractContextManager[None]":
    """The config's ledger for a command that only reads it; None (said on stderr) when there
    is none yet: a read must not leave an empty ledger where the daemon will look."""
    path = ledger_path(config)
    if path.exists() or config.fleet.database:
        return open_ledger(config)
    print(f"no ledger at {path} yet: nothing has run with this config", file=sys.stderr)
    return contextlib.nullcontext()


def when(text: str) -> datetime:
    """A --since/--until value: an ISO date or date and time, local (as the clips' times)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or time like 2024-05-01 or 2024-05-01T08:00") \
            from None


def log_setup(config: Config, stream: Optional[TextIO] = None) -> None:
    """Logs of `run` and `sync`, and the config's warnings said at every start."""
    # journald stores stdout; JSON lines there, a readable console on a terminal.
    configure(config.log_level, stream=stream or sys.stdout)
    for warning in config.warnings:  # e.g. a key file others can read: said at every start
        get_logger("mavi_sync.commands").warning("config_warning", warning=warning)
