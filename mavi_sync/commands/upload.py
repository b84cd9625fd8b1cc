"""`mavi-sync upload FILE…`: upload files of configured folders now, recorded in the ledger,
and (unless --no-wait) follow each one's remote status to its end. Exit 0 only when every
file was uploaded or confirmed."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from mavi_sync.api.client import Client
from mavi_sync.captions.receiver import with_callbacks
from mavi_sync.commands.common import CONFIG_HELP, EXIT_ERROR, EXIT_OK, config_at, print_json
from mavi_sync.config import Config, FolderConfig
from mavi_sync.config.schema import TARGETS
from mavi_sync.errors import MaviSyncError
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.states import State
from mavi_sync.ledger.store import Ledger
from mavi_sync.pipeline.follower import Follower
from mavi_sync.pipeline.uploader import Outcome, rules_of, upload_path
from mavi_sync.readout.report import outcome_json, outcome_line


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("upload", help="upload files now (recorded in the ledger) and follow their status")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files inside a configured folder")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--target", choices=TARGETS, help="override the folder's target")
    p.add_argument("--no-wait", action="store_true", help="do not follow the remote status")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
