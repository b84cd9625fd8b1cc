"""`mavi-sync retry FILE… | --all-failed`: put failed (or rejected) files back in the queue,
as decide_retry says; the running daemon or the next `sync` tries them again."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mavi_sync.commands.common import CONFIG_HELP, EXIT_OK, config_at
from mavi_sync.errors import MaviSyncError
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.outcome import decide_retry


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("retry", help="try failed (or rejected) files again")
    p.add_argument("paths", nargs="*", type=Path, metavar="FILE",
                   help="failed or rejected files to try again (checked again against the folder's settings)")
    p.add_argument("--all-failed", action="store_true", help="every file in state failed")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.all_failed and not args.paths:
        raise MaviSyncError("nothing to retry", hint="name files, or use --all-failed")
    config = config_at(args.config)
    retried = 0
    with open_ledger(config) as ledger:
        records = ledger.files(state=State.FAILED, limit=1_000_000) if args.all_failed else []
        for path in args.paths:
            known = ledger.lookup_path(path.resolve())
            record = ledger.get_by_id(known.file_id) if known and known.file_id else None
            if record is None:
                print(f"not in the ledger: {path}", file=sys.stderr)
            elif decide_retry(record) is not None:
                records.append(record)
            else:
                print(f"{path}: {record.state.value}, nothing to retry", file=sys.stderr)
        for record in records:
            change = decide_retry(record)
            assert change is not None
            ledger.transition(record.id, change.state, **change.fields)
            retried += 1
    print(f"{retried} file(s) will be tried again (by the running daemon, or the next `mavi-sync sync`)")
    return EXIT_OK
