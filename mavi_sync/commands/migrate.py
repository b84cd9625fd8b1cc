"""`mavi-sync migrate-ledger`: copy this box's SQLite ledger into its [fleet] database
(idempotent: a second run copies nothing new)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mavi_sync.commands.common import CONFIG_HELP, EXIT_OK, config_at, ledger_path
from mavi_sync.errors import MaviSyncError
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.store import Ledger


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("migrate-ledger", help="copy this box's SQLite ledger into its [fleet] database (idempotent)")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--from", dest="source", type=Path, metavar="LEDGER",
                   help="the SQLite ledger to copy (default: the one this config would use)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Copy the box's SQLite ledger into its fleet's (idempotent)."""
    config = config_at(args.config)
    if not config.fleet.database:
        raise MaviSyncError(f"{config.source} has no [fleet] database to copy the ledger into",
                            hint="Set [fleet] database (docs/guides/fleet.md, \"Joining a box\"), then run migrate-ledger again.")
    source = args.source or ledger_path(config)
    if not source.exists():
        raise MaviSyncError(f"no ledger at {source} to copy", hint="Name it with --from PATH.")
    from mavi_sync.fleet.migrate import migrate
    with Ledger(source) as local, open_ledger(config) as fleet:
        copied = migrate(local, fleet)  # type: ignore[arg-type]
        node = getattr(fleet, "node", "?")
    print(f"copied {copied.rows} content rows ({copied.new_rows} new to the fleet), {copied.paths} paths and "
          f"{copied.skipped} skipped paths from {source} into the fleet ledger as node {node}")
    return EXIT_OK
