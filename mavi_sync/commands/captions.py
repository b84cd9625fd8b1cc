"""`mavi-sync captions`: what the security service said about each clip: when it was taken,
where the clip is now, the text; filtered by folder, time and words."""

from __future__ import annotations

import argparse
from pathlib import Path

from mavi_sync.captions.store import captions
from mavi_sync.commands.common import EXIT_OK, config_at, existing_ledger, print_json, when


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("captions", help="what the security service said about each clip (time, where the clip is now, text)")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: see README)")
    p.add_argument("--folder", type=Path, metavar="DIR", help="only clips under this directory (where they are now, or the folder they came from)")
    p.add_argument("--since", type=when, metavar="TIME", help="only clips taken at or after (2024-05-01 or 2024-05-01T08:00)")
    p.add_argument("--until", type=when, metavar="TIME", help="only clips taken at or before")
    p.add_argument("--search", default="", metavar="TEXT", help="only captions containing TEXT (any case)")
    p.add_argument("--limit", type=int, default=100, help="at most this many, newest first (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
