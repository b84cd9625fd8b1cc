"""`mavi-sync status [--fleet]`: counts by state and target, pauses and outages, last errors;
with --fleet, every node of the fleet's database as its last heartbeat left it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mavi_sync.commands.common import CONFIG_HELP, EXIT_OK, config_at, existing_ledger, print_json
from mavi_sync.config import Config
from mavi_sync.errors import MaviSyncError
from mavi_sync.readout.report import empty_status, status_json, status_text


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("status", help="counts by state and target, pause/outage, last errors, what waits to be archived or deleted")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--fleet", action="store_true", help="every node of the [fleet] database: running, last seen, "
                                                        "summary, paused reason")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    if getattr(args, "fleet", False):
        return _fleet_status(config, args.json)
    with existing_ledger(config) as ledger:
        report = status_json(ledger, time.time()) if ledger is not None else empty_status()
    if args.json:
        print_json(report)
    else:
        print(status_text(report))
    return EXIT_OK


def _fleet_status(config: Config, as_json: bool) -> int:
    """`status --fleet`: every node of the fleet's database, as its last heartbeat left it."""
    if not config.fleet.database:
        raise MaviSyncError(f"{config.source}: no [fleet] database", hint="Set [fleet] database to the fleet's "
                            "PostgreSQL URL (docs/guides/fleet.md, \"Joining a box\").")
    try:
        from mavi_sync.fleet.join import database_of
        from mavi_sync.fleet.nodes import fleet_rows
    except ImportError as exc:
        raise MaviSyncError(f"the PostgreSQL driver is missing ({exc.name})",
                            hint="Install mavi-sync with its fleet extra: pip install 'mavi-sync[fleet]'.") from None
    db = database_of(config)
    try:
        rows = fleet_rows(db)
    finally:
        db.close()
    if as_json:
        print_json(rows)
        return EXIT_OK
    for r in rows:
        state = "running" if r["running"] else "not running"
        print(f"{r['node']:<20} {state:<12} seen {r['last_seen_s']:>8.1f} s ago  {r['summary'] or '-'}"
              + (f"  PAUSED: {r['paused']}" if r["paused"] else ""))
    return EXIT_OK
