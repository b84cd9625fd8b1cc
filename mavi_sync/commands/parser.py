"""The `mavi-sync` command line. Prints one line and a hint on error; tracebacks only with --debug."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional, Sequence, TextIO

from mavi_sync import __version__

from mavi_sync.commands import check_config as check

from mavi_sync.commands import pause as control

from mavi_sync.daemon import once
from mavi_sync.daemon import service as daemon
from mavi_sync.api.client import Client
from mavi_sync.config import Config, FolderConfig, default_config_path, load_config
from mavi_sync.config.schema import TARGETS
from mavi_sync.emulator.command import add_emulator_arguments, run_emulator
from mavi_sync.fleet.command import add_fleet_arguments, run_fleet
from mavi_sync.errors import ConfigError, ConversionError, MaviSyncError
from mavi_sync.find import commands as find
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import configure, get_logger
from mavi_sync.media.model import Converted
from mavi_sync.media.prober import convert_here
from mavi_sync.media.rules import LIMITS
from mavi_sync.pipeline.outcome import decide_retry
from mavi_sync.pipeline.plan import FilePlan, live_photo, plan_file
from mavi_sync.readout.report import (
    inspect_json,
    inspect_text,
    outcome_json,
    outcome_line,
    scan_summary,
    status_json,
    status_text,
)
from mavi_sync.commands.scan import dry_run
from mavi_sync.commands.terminal import StatusLine
from mavi_sync.commands.views import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, cmd_captions, cmd_ledger, cmd_migrate_ledger,
                             cmd_status, config_at, ledger_of, ledger_path, print_json, when)
from mavi_sync.captions.receiver import with_callbacks
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.follower import Follower
from mavi_sync.pipeline.uploader import Outcome, rules_of, upload_path




CONFIG_HELP = ("config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, "
               "/etc/mavi-sync/config.toml)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mavi-sync", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mavi-sync {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check.add_arguments(sub)

    p = sub.add_parser("inspect", help="show type, metadata and per-target upload fields of files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="media files to read (nothing is uploaded)")
    p.add_argument("--config", type=Path, metavar="PATH", help="use the settings of the folder holding each file")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("scan", help="list what a sync would upload where (nothing is uploaded)")
    p.add_argument("--dry-run", action="store_true", required=True,
                   help="required: the scan only reports (uploading is `mavi-sync sync`)")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("upload", help="upload files now (recorded in the ledger) and follow their status")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files inside a configured folder")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")
    p.add_argument("--target", choices=TARGETS, help="override the folder's target")
    p.add_argument("--no-wait", action="store_true", help="do not follow the remote status")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("run", help="the daemon: watch the folders and keep them synced (systemd runs this)")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")

    p = sub.add_parser("sync", help="one pass: upload everything ready, follow statuses, exit")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for remote statuses")

    p = sub.add_parser("status", help="counts by state and target, pause/outage, last errors, what waits to be archived or deleted")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--fleet", action="store_true", help="every node of the [fleet] database: running, last seen, "
                                                        "summary, paused reason")

    p = sub.add_parser("retry", help="try failed (or rejected) files again")
    p.add_argument("paths", nargs="*", type=Path, metavar="FILE",
                   help="failed or rejected files to try again (checked again against the folder's settings)")
    p.add_argument("--all-failed", action="store_true", help="every file in state failed")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")

    p = sub.add_parser("ledger", help="list ledger rows, each with where its bytes are now")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: $MAVI_SYNC_CONFIG, ~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml)")
    p.add_argument("--state", choices=[s.value for s in State], help="only rows in this state")
    p.add_argument("--target", choices=TARGETS, help="only rows for this target")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows, newest first (default 100)")
    p.add_argument("--skipped", action="store_true", help="list paths with nothing to upload, and why")
    p.add_argument("--node", default="", metavar="NAME", help="in a fleet: the rows of node NAME (default: this one)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("captions", help="what the security service said about each clip (time, where the clip is now, text)")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (default: see README)")
    p.add_argument("--folder", type=Path, metavar="DIR", help="only clips under this directory (where they are now, or the folder they came from)")
    p.add_argument("--since", type=when, metavar="TIME", help="only clips taken at or after (2024-05-01 or 2024-05-01T08:00)")
    p.add_argument("--until", type=when, metavar="TIME", help="only clips taken at or before")
    p.add_argument("--search", default="", metavar="TEXT", help="only captions containing TEXT (any case)")
    p.add_argument("--limit", type=int, default=100, help="at most this many, newest first (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    control.add_arguments(sub, CONFIG_HELP)
    find.add_arguments(sub, CONFIG_HELP, when)

    p = sub.add_parser("migrate-ledger", help="copy this box's SQLite ledger into its [fleet] database (idempotent)")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--from", dest="source", type=Path, metavar="LEDGER",
                   help="the SQLite ledger to copy (default: the one this config would use)")

    add_fleet_arguments(sub, CONFIG_HELP)

    p = sub.add_parser("emulator", help="run a local memories.ai emulator (for tests and the demo)")
    add_emulator_arguments(p)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    configure("debug" if args.debug else "warning")
    try:
        return _COMMANDS[args.command](args)
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


def _folder_for(path: Path, config: Optional[Config]) -> FolderConfig:
    folder = config.folder_for(path.resolve()) if config else None
    return folder or FolderConfig(path=path.resolve().parent)


def cmd_inspect(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else None
    with_sha = config.uploads.video_sha_tag if config else True
    plans = []
    for path in args.files:
        try:
            sha: Optional[str] = sha256_file(path)
        except OSError:
            sha = None
        plans.append(plan_file(path.resolve(), _folder_for(path, config), sha256=sha, with_sha_tag=with_sha))
    converted = [_trial_conversion(p) for p in plans]
    pairs = [live_photo(p) for p in plans]
    if args.json:
        print_json([inspect_json(p, c, pair) for p, c, pair in zip(plans, converted, pairs)])
    else:
        print("\n\n".join(inspect_text(p, c, pair) for p, c, pair in zip(plans, converted, pairs)))
    return EXIT_OK


def _trial_conversion(plan: FilePlan) -> "Converted | str | None":
    """For a photo sent as a JPEG: make that JPEG in a temporary directory, as an upload
    would, to show its size and whether the quality or size had to be lowered."""
    if not any(tp.verdict.convert == "jpeg" for tp in plan.targets.values()):
        return None
    with tempfile.TemporaryDirectory(prefix="mavi-inspect-") as tmp:
        try:
            return convert_here(str(plan.path), os.path.join(tmp, "out.jpg"), "jpeg",
                                {"quality": plan.folder.jpeg_quality, "max_bytes": LIMITS["image"].max_bytes})
        except ConversionError as exc:
            return str(exc)


def cmd_scan(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    where = ledger_path(config)
    ledger = open_ledger(config) if where.exists() or config.fleet.database else None
    try:
        entries = list(dry_run(config, ledger))
    finally:
        if ledger:
            ledger.close()
    if args.json:
        rows: list[dict[str, Any]] = [{"path": str(e.path), "status": e.status, "target": e.target,
                                       "detail": e.detail} for e in entries]
        print_json(rows)
    else:
        for e in entries:
            print(f"{e.status:<10} {e.target:<8} {e.path}  {e.detail}")
        print(scan_summary(entries))
    return EXIT_OK


def cmd_upload(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    folders = []
    for path in args.files:
        folder = config.folder_for(path.resolve())
        if folder is None:
            raise MaviSyncError(f"{path} is not inside a configured folder",
                                hint="Upload files from a [[folders]] path: its settings decide the fields.")
        folders.append(folder)
    ledger = open_ledger(config)
    config = with_callbacks(config, ledger)  # async security: the receiver's URL
    folders = [config.folder_for(path.resolve()) or folder for path, folder in zip(args.files, folders)]
    client = Client.from_config(config, folders=ledger)
    try:
        outcomes = [_upload_one(path.resolve(), folder, config, ledger, client, args)
                    for path, folder in zip(args.files, folders)]
    finally:
        client.close()
        ledger.close()
    if args.json:
        print_json([outcome_json(o) for o in outcomes])
    else:
        for o in outcomes:
            print(outcome_line(o))
    return EXIT_OK if all(o.state in (State.CONFIRMED, State.UPLOADED) for o in outcomes) else EXIT_ERROR


def _upload_one(path: Path, folder: FolderConfig, config: Config, ledger: Ledger, client: Client,
                args: argparse.Namespace) -> Outcome:
    outcome = upload_path(path, folder, config, ledger, client, target=args.target)
    if outcome.state == State.UPLOADED and outcome.record is not None and not args.no_wait:
        follower = Follower(ledger, client, rules_of(config), clock=time.time, stop=client.stop)
        record = follower.follow(outcome.record)
        outcome = replace(outcome, state=record.state, record=record, detail=record.last_error or outcome.detail)
    return outcome


def _log_setup(config: Config, stream: Optional[TextIO] = None) -> None:
    # journald stores stdout; JSON lines there, a readable console on a terminal.
    configure(config.log_level, stream=stream or sys.stdout)
    for warning in config.warnings:  # e.g. a key file others can read: said at every start
        get_logger("mavi_sync.commands.parser").warning("config_warning", warning=warning)


def cmd_run(args: argparse.Namespace) -> int:
    path = args.config or default_config_path()
    _log_setup(load_config(path))
    return daemon.run(path)


def cmd_sync(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    # On a terminal, one status line under the log lines (terminal.py); in a pipe or the
    # journal, none: the logs say it all.
    line = StatusLine(sys.stderr) if sys.stderr.isatty() else None
    _log_setup(config, stream=line)
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


def cmd_retry(args: argparse.Namespace) -> int:
    if not args.all_failed and not args.paths:
        raise MaviSyncError("nothing to retry", hint="name files, or use --all-failed")
    config = config_at(args.config)
    retried = 0
    with ledger_of(config) as ledger:
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


def cmd_emulator(args: argparse.Namespace) -> int:
    return run_emulator(args)


_COMMANDS = {"check-config": check.cmd_check_config, "inspect": cmd_inspect, "scan": cmd_scan, "upload": cmd_upload,
             "run": cmd_run, "sync": cmd_sync, "status": cmd_status, "retry": cmd_retry, "ledger": cmd_ledger, "captions": cmd_captions,
             "migrate-ledger": cmd_migrate_ledger, "fleet": run_fleet, "pause": control.cmd_pause, "resume": control.cmd_resume, "emulator": cmd_emulator,
             **find.COMMANDS}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
