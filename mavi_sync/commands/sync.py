"""`mavi-sync sync`: one pass: upload everything ready, follow the statuses, print the status,
exit (0 when nothing is left failed or unfinished)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mavi_sync.commands.common import CONFIG_HELP, EXIT_ERROR, EXIT_OK, config_at, log_setup
from mavi_sync.commands.terminal import StatusLine
from mavi_sync.daemon import once
from mavi_sync.logs import configure
from mavi_sync.readout.report import status_json, status_text


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("sync", help="one pass: upload everything ready, follow statuses, exit")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for remote statuses")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    # On a terminal, one status line under the log lines (terminal.py); in a pipe or the
    # journal, none: the logs say it all.
    line = StatusLine(sys.stderr) if sys.stderr.isatty() else None
    log_setup(config, stream=line)
    engine = once.sync_once(config, timeout_s=args.timeout, progress=line.show if line else None)
    if line is not None:
        line.close()
        configure(config.log_level, stream=sys.stderr)
    report = status_json(engine.ledger, time.time())
    engine.ledger.close()
    print(status_text(report))
    counts = report["counts"]
    stuck = sum(sum(counts.get(s, {}).values()) for s in ("failed", "uploaded", "uploading", "ready", "discovered"))
    return EXIT_OK if stuck == 0 else EXIT_ERROR
