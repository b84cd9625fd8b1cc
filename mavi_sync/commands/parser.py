"""The `mavi-sync` command line. Prints one line and a hint on error; tracebacks only with --debug.

This module only wires: each command's module adds its arguments (`add(sub)`, which sets
`run` on its parser) and runs it; find/ and fleet/ keep their commands, wired here. What
happens on an error, and the exit codes, is decided here alone."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Optional, Sequence

from mavi_sync import __version__
from mavi_sync.commands import (captions, check_config, emulator, inspect, ledger, migrate, pause, retry, run,
                                scan, status, sync, upload)
from mavi_sync.commands.common import CONFIG_HELP, EXIT_ERROR, EXIT_OK, EXIT_USAGE, when
from mavi_sync.errors import ConfigError, MaviSyncError
from mavi_sync.find import commands as find
from mavi_sync.fleet.command import add_fleet_arguments, run_fleet
from mavi_sync.logs import configure

# In this order in `mavi-sync --help` and in docs/reference/commands.md.
_BEFORE_FIND = (check_config, inspect, scan, upload, run, sync, status, retry, ledger, captions, pause)


def _parser() -> argparse.ArgumentParser:
    """The whole command line: every command with its arguments and its `run`."""
    parser = argparse.ArgumentParser(prog="mavi-sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"mavi-sync {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _BEFORE_FIND:
        command.add(sub)
    find.add_arguments(sub, CONFIG_HELP, when)
    _wire(sub, find.COMMANDS)
    migrate.add(sub)
    add_fleet_arguments(sub, CONFIG_HELP)
    _wire(sub, {"fleet": run_fleet})
    emulator.add(sub)
    return parser


def _wire(sub: Any, runs: dict[str, Callable[[argparse.Namespace], int]]) -> None:
    """Give the parsers another package added the function that runs each."""
    for name, function in runs.items():
        sub.choices[name].set_defaults(run=function)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    configure("debug" if args.debug else "warning")
    try:
        return args.run(args)
    except BrokenPipeError:  # `mavi-sync inspect … | head`: the reader had enough
        # Point stdout at /dev/null, so that the interpreter's flush at exit fails quietly too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as exc:
        print(f"mavi-sync: {exc}\nTry: {exc.hint}", file=sys.stderr)
        return EXIT_USAGE
    except MaviSyncError as exc:
        if args.debug:
            raise
        print(f"mavi-sync: {exc}" + (f"\nTry: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
