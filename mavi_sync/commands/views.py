"""The commands that only read the ledger (`status`, `ledger`, `captions`) and what every
command shares: where a config's ledger is, and JSON on stdout."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from mavi_sync.captions.store import captions
from mavi_sync.config import Config, default_config_path, load_config
from mavi_sync.errors import MaviSyncError
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.location import ledger_path_for
from mavi_sync.ledger.store import Ledger
from mavi_sync.readout.report import empty_status, ledger_rows, skipped_rows, status_json, status_text, where
from mavi_sync.ledger.states import State

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def print_json(data: object) -> None:
    """JSON on stdout as valid UTF-8: non-ASCII text stays readable, and the bytes of a
    non-UTF-8 file name (kept as surrogates) become \\udcXX escapes instead of raw bytes
    that would make the whole document unreadable to a JSON parser."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    print(text.encode("utf-8", "backslashreplace").decode("utf-8"))

def config_at(path: Optional[Path]) -> Config:
    return load_config(path or default_config_path())


def ledger_path(config: Config) -> Path:
    return ledger_path_for(config.ledger.path, config.source)


def existing_ledger(config: Config) -> "Ledger | contextlib.AbstractContextManager[None]":
    """The config's ledger for a command that only reads it; None (said on stderr) when there
    is none yet: a read must not leave an empty ledger where the daemon will look."""
    path = ledger_path(config)
    if path.exists() or config.fleet.database:
        return open_ledger(config)
    print(f"no ledger at {path} yet: nothing has run with this config", file=sys.stderr)
    return contextlib.nullcontext()


def cmd_status(args: argparse.Namespace) -> int:
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


def cmd_ledger(args: argparse.Namespace) -> int:
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


def when(text: str) -> datetime:
    """A --since/--until value: an ISO date or date and time, local (as the clips' times)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or time like 2024-05-01 or 2024-05-01T08:00") \
            from None


def cmd_captions(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    with existing_ledger(config) as ledger:
        found = [] if ledger is None else captions(
            ledger, folder=args.folder.resolve() if args.folder else None, since=args.since, until=args.until,
            search=args.search, limit=args.limit)
    if args.json:
        print_json([c.as_json() for c in found])
    else:
        for c in found:
            print(f"{(c.when or '-')[:19]}  {c.place.describe() if c.place else '-'}\n    {c.text.strip()}")
    return EXIT_OK


def ledger_of(config: Config) -> Ledger:
    return open_ledger(config)


def cmd_migrate_ledger(args: argparse.Namespace) -> int:
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
