"""The commands of find/: `search`, `check`, `recover`, `backup-ledger`, `folders`. commands/parser.py adds
their arguments (`add_arguments`) and runs them (`COMMANDS`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from mavi_sync.api.client import Client
from mavi_sync.api.search import TYPES
from mavi_sync.config import Config, default_config_path, load_config
from mavi_sync.errors import MaviSyncError
from mavi_sync.find import backup, check, folders, recover, search
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.location import ledger_path_for
from mavi_sync.ledger.store import Ledger

# `check`: 0 the ledger and the server agree, 1 differences found, 2 the check could not run.
CHECK_SAME, CHECK_DIFFERENT, CHECK_FAILED = 0, 1, 2
NEWEST = "\0newest"  # `recover --backup` without a file: the newest copy


def add_arguments(sub: Any, config_help: str, when: Callable[[str], Any]) -> None:
    """The subcommands' arguments; `when` reads a --since/--until value (commands.common.when)."""
    p = sub.add_parser("search", help="search the account's videos; each hit shown as the file on this box")
    p.add_argument("query", help="what to look for, in words")
    p.add_argument("--type", dest="kind", choices=list(TYPES), default="clip",
                   help="clip: what is seen (default); audio: what is said; caption: the transcript")
    p.add_argument("--limit", type=int, default=20, help="at most this many hits (default 20)")
    p.add_argument("--since", type=when, metavar="TIME", help="only clips taken at or after (2024-05-01 or 2024-05-01T08:00)")
    p.add_argument("--until", type=when, metavar="TIME", help="only clips taken at or before")
    p.add_argument("--folder", type=Path, metavar="DIR", help="only files under this local directory")
    p.add_argument("--server-folder", metavar="NAME", help="only videos in this memories.ai folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--config", type=Path, metavar="PATH", help=config_help)

    p = sub.add_parser("check", help="compare the ledger with the server (exit 0 same, 1 differences, 2 failed)")
    p.add_argument("--fix", action="store_true", help="queue again what the server no longer holds")
    p.add_argument("--quiet", action="store_true", help="print the summary line only")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--config", type=Path, metavar="PATH", help=config_help)

    p = sub.add_parser("recover", help="rebuild a lost ledger from the server's sha256 tags (and a copy)")
    p.add_argument("--backup", nargs="?", const=NEWEST, metavar="FILE",
                   help="start from a copy of the ledger (default: the newest in [ledger] backup_dir)")
    p.add_argument("--offline", action="store_true", help="with --backup: the copy alone, the server not asked")
    p.add_argument("--force", action="store_true", help="replace an existing ledger (it is kept beside)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--config", type=Path, metavar="PATH", help=config_help)

    p = sub.add_parser("backup-ledger", help="copy the ledger now, consistently (SQLite's online backup)")
    p.add_argument("--to", type=Path, metavar="DIR", help="where (default: [ledger] backup_dir)")
    p.add_argument("--config", type=Path, metavar="PATH", help=config_help)

    p = sub.add_parser("folders", help="the memories.ai folders server_folder makes; --move files videos into them")
    p.add_argument("--move", action="store_true", help="move videos uploaded before into their template's folder")
    p.add_argument("--config", type=Path, metavar="PATH", help=config_help)


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config or default_config_path())


def _ledger(config: Config) -> Ledger:
    path = ledger_path_for(config.ledger.path, config.source)
    if not path.exists() and not config.fleet.database:
        raise MaviSyncError(f"no ledger at {path}: nothing has run with this config yet",
                            hint="Run the daemon (or `mavi-sync sync`) once; a lost ledger: mavi-sync recover")
    return open_ledger(config)


def _print_json(data: object) -> None:
    """As views.print_json: valid UTF-8, a non-UTF-8 file name's bytes as \\udcXX escapes."""
    print(json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8"))


def cmd_search(args: argparse.Namespace) -> int:
    q = search.Query(args.query, args.kind, args.limit, args.since, args.until,
                     args.folder.resolve() if args.folder else None, args.server_folder)
    problem = q.problem()  # before the config, the ledger or the network: nothing is asked
    if problem:
        raise MaviSyncError(problem, hint=f"Search for words, e.g. {search.EXAMPLE}")
    config = _config(args)
    with _ledger(config) as ledger:
        client = Client.from_config(config, folders=ledger)
        try:
            found = []
            for number, hit in enumerate(search.search(client, ledger, q, config), 1):
                found.append(hit.as_json())
                if not args.json:
                    print("\n".join(hit.lines(number)), flush=True)
        finally:
            client.close()
    if args.json:
        _print_json(found)
    elif not found:
        print(f"no hits for {args.query!r}", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
        with _ledger(config) as ledger:
            client = Client.from_config(config, folders=ledger)
            try:
                report = check.check(ledger, client, recover.namespaces_of(config), fix=args.fix)
            finally:
                client.close()
    except MaviSyncError as exc:
        print(f"check: could not compare: {exc}" + (f"\nTry: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return CHECK_FAILED
    if args.json:
        _print_json(report.as_json())
        return report.exit_code
    if not args.quiet:
        for p in report.problems:
            print(f"{p.kind:<8} {p.namespace} {p.video_no} sha256:{p.sha256}" + (f"  {p.detail}" if p.detail else ""))
    print(report.summary(args.fix))
    return report.exit_code


def cmd_recover(args: argparse.Namespace) -> int:
    config = _config(args)
    copy = recover.newest_copy(config) if args.backup == NEWEST else Path(args.backup) if args.backup else None
    if args.offline and copy is None:
        raise MaviSyncError("--offline restores a copy: give --backup", hint="mavi-sync recover --backup --offline")
    client = None if args.offline else Client.from_config(config)
    try:
        done = recover.recover(config, client, force=args.force, backup=copy, clock=time.time)
    finally:
        if client is not None:
            client.close()
    if args.json:
        _print_json(done.as_json())
    else:
        print("\n".join(done.lines()))
    return 0


def cmd_backup_ledger(args: argparse.Namespace) -> int:
    config = _config(args)
    where = args.to or config.ledger.backup_dir
    if where is None:
        raise MaviSyncError("where to? no [ledger] backup_dir is set", hint="mavi-sync backup-ledger --to DIR")
    if config.fleet.database:
        raise MaviSyncError("the fleet's ledger is in PostgreSQL: back it up with pg_dump",
                            hint="[ledger] backup_dir copies a box's own SQLite ledger.")
    path = ledger_path_for(config.ledger.path, config.source)
    if not path.exists():
        raise MaviSyncError(f"no ledger at {path}", hint="Nothing has run with this config yet.")
    dest = backup.backup_now(path, where, config.ledger.backup_keep, time.time())
    print(f"copied the ledger to {dest}")
    return 0


def cmd_folders(args: argparse.Namespace) -> int:
    config = _config(args)
    with _ledger(config) as ledger:
        client = Client.from_config(config, folders=ledger)
        try:
            if not args.move:
                print("\n".join(folders.listing(config, ledger, client)))
                return 0
            moves = folders.plan_moves(config, ledger)
            moved = folders.apply_moves(client, moves)
        finally:
            client.close()
    print(f"moved {moved} video(s) into {len(moves.by_name)} folder(s)"
          + (f"; {moves.no_file} left where they are (no file here to name their folder)" if moves.no_file else ""))
    for line in moves.unnamed:
        print(f"not moved: {line}", file=sys.stderr)
    return 0


COMMANDS = {"search": cmd_search, "check": cmd_check, "recover": cmd_recover, "backup-ledger": cmd_backup_ledger,
            "folders": cmd_folders}
