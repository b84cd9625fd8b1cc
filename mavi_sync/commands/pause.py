"""`mavi-sync pause [--for DURATION]` and `mavi-sync resume`: a pause by hand, written to the
config's ledger (gate.py), where the running daemon reads it within a second.

The ledger is the channel because it is the one place both sides can reach whoever runs
them: the service's dynamic user and a root shell (SQLite gives the files it creates as root
to the database's owner), and it holds the pause across a restart. The command waits a few
seconds to see the daemon take it, and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import sys
import time
from pathlib import Path
from typing import Any, Callable

from mavi_sync.commands.common import CONFIG_HELP, EXIT_OK, config_at, ledger_path
from mavi_sync.errors import MaviSyncError
from mavi_sync.owner.gate import hand_pause, pause_by_hand, resume_by_hand
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.store import Ledger
from mavi_sync.readout.report import RUNNING_S
from mavi_sync.owner.timetable import TimetableError, parse_duration

ACK_S = 5.0  # the daemon looks every second (daemon.OVERSIGHT_S)


def duration(text: str) -> float:
    """A --for value: 30m, 2h, 1d, 1h30m."""
    try:
        seconds = parse_duration(text)
    except TimetableError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration longer than 0")
    return seconds


def who() -> str:
    """The user pausing, as `status` shows it: "alice", or "root (sudo from alice)"."""
    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        name = f"uid {os.geteuid()}"
    sudo = os.environ.get("SUDO_USER")
    return f"{name} (sudo from {sudo})" if sudo and sudo != name else name


def _ledger(args: argparse.Namespace) -> Ledger:
    config = config_at(args.config)
    path = ledger_path(config)
    if not path.exists() and not config.fleet.database:
        raise MaviSyncError(f"no ledger at {path}: nothing has run with this config yet",
                            hint="Start the daemon (or run `mavi-sync sync`) once; then it can be paused.")
    return open_ledger(config)


def _running(ledger: Ledger, now: float) -> bool:
    beat = ledger.daemon().get("heartbeat")
    return beat is not None and now - float(beat[0]) < RUNNING_S


def _seen(ledger: Ledger, check: Callable[[dict[str, Any]], bool]) -> bool:
    """Wait (bounded) until the daemon's recorded gate passes `check`."""
    deadline = time.monotonic() + ACK_S
    while time.monotonic() < deadline:
        gate = ledger.daemon().get("gate")
        if gate is not None and check(json.loads(gate[0])):
            return True
        time.sleep(0.2)
    return False


def cmd_pause(args: argparse.Namespace) -> int:
    now = time.time()
    with _ledger(args) as ledger:
        pause_by_hand(ledger, who(), now, now + args.for_s if args.for_s else None)
        hand = hand_pause(ledger.daemon())
        text = hand.describe() if hand is not None else "paused by hand"
        if not _running(ledger, now):
            print(f"{text}; no daemon runs now: uploads stay paused when it starts")
        elif _seen(ledger, lambda g: bool(g.get("hand_paused"))):
            print(f"{text}; the daemon holds uploads (one in flight is stopped and sent again on resume)")
        else:
            print(f"{text}; recorded, but the daemon has not confirmed it within {ACK_S:g} s", file=sys.stderr)
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        hand = hand_pause(ledger.daemon())
        if hand is None:
            print("not paused by hand: nothing to resume")
            return EXIT_OK
        resume_by_hand(ledger)
        if not _running(ledger, time.time()):
            print(f"resumed (was {hand.describe()}); no daemon runs now")
        elif _seen(ledger, lambda g: not g.get("hand_paused")):
            print(f"resumed (was {hand.describe()}); the daemon uploads again")
        else:
            print(f"resumed (was {hand.describe()}); recorded, but the daemon has not confirmed it within "
                  f"{ACK_S:g} s", file=sys.stderr)
    return EXIT_OK


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("pause", help="pause uploads of the running daemon (also across restarts) until resumed")
    p.add_argument("--for", dest="for_s", type=duration, metavar="DURATION",
                   help="resume by itself after this long: 30m, 2h, 1d, 1h30m")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.set_defaults(run=cmd_pause)
    p = sub.add_parser("resume", help="end a pause by hand (mavi-sync pause)")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.set_defaults(run=cmd_resume)
