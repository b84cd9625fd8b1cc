"""`mavi-sync ledger`: the ledger's rows, each with where its bytes are now; --skipped lists
the paths with nothing to upload, and why; --node reads another node's rows in a fleet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mavi_sync.commands.common import CONFIG_HELP, EXIT_OK, config_at, existing_ledger, print_json
from mavi_sync.config.schema import TARGETS
from mavi_sync.errors import MaviSyncError
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.states import State
from mavi_sync.readout.report import ledger_rows, skipped_rows, where


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ledger", help="list ledger rows, each with where its bytes are now")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--state", choices=[s.value for s in State], help="only rows in this state")
    p.add_argument("--target", choices=TARGETS, help="only rows for this target")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows, newest first (default 100)")
    p.add_argument("--skipped", action="store_true", help="list paths with nothing to upload, and why")
    p.add_argument("--node", default="", metavar="NAME", help="in a fleet: the rows of node NAME (default: this one)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    skipped: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    if args.node and not config.fleet.database:
        raise MaviSyncError(f"--node {args.node}: {config.source} has no [fleet] database",
                            hint="--node lists another node's rows in a fleet's ledger (docs/guides/fleet.md, \"Joining a box\").")
    with (open_ledger(config, args.node) if args.node else existing_ledger(config)) as ledger:
        if ledger is not None and args.skipped:
            skipped = skipped_rows(ledger, args.limit)
        elif ledger is not None:
            state = State(args.state) if args.state else None
            rows = ledger_rows(ledger, ledger.files(state=state, target=args.target, limit=args.limit))
    if args.skipped:
        if args.json:
            print_json(skipped)
        else:
            for r in skipped:
                print(f"{r['path']}: {r['reason']}")
        return EXIT_OK
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['state']:<10} {r['target']:<8} {(r['remote_id'] or '-'):<22} {where(r)}"
                  + (f"  {r['error']}" if r["error"] else ""))
    return EXIT_OK
