"""`mavi-sync emulator`: flags → Settings and Faults, then serve in the foreground.

aiohttp is imported only here, when the command runs: the daemon does not need it
(it comes with the `emulator` extra: pip install 'mavi-sync[emulator]').
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

from mavi_sync.emulator.faults import Faults
from mavi_sync.errors import MaviSyncError


def add_emulator_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--data-dir", type=Path, help="where uploads are kept (default: a new temporary dir)")
    p.add_argument("--api-key-env", default="MAVI_API_KEY",
                   help="environment variable holding the key to accept (default MAVI_API_KEY)")
    p.add_argument("--security-key-env", default="MAVI_SECURITY_KEY",
                   help="environment variable holding the security key to accept (default MAVI_SECURITY_KEY)")
    p.add_argument("--parse-delay", type=float, default=2.0, help="seconds a video stays UNPARSE (default 2)")
    p.add_argument("--visible-delay", type=float, default=0.0,
                   help="seconds get_metadata answers data:null after an upload (default 0)")
    p.add_argument("--signed-url-ttl", type=float, default=3600.0,
                   help="seconds a v2 signed upload URL stays valid (default 3600)")
    p.add_argument("--discard-bytes", action="store_true", help="hash uploads but do not keep their bytes")
    p.add_argument("--seed", type=int, help="seed for the random faults (repeatable runs)")
    names = ", ".join(f.name for f in fields(Faults))
    p.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE",
                   help=f"set a fault at start, e.g. error_rate=0.2 (names: {names}); "
                        "change them later with POST /_admin/faults")


def faults_from(items: list[str]) -> Faults:
    """`--fault error_rate=0.2 --fault bad_key=true` → Faults; MaviSyncError names a bad item."""
    changes = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise MaviSyncError(f"--fault {item!r}: expected NAME=VALUE", hint="e.g. --fault error_rate=0.2")
        try:
            changes[name.strip()] = json.loads(raw)
        except ValueError:
            raise MaviSyncError(f"--fault {item!r}: {raw!r} is not a number, true or false") from None
    try:
        return Faults().update(changes)
    except ValueError as exc:
        raise MaviSyncError(f"--fault: {exc}") from None


def run_emulator(args: argparse.Namespace) -> int:
    try:
        from mavi_sync.emulator.app import Settings
        from mavi_sync.emulator.runner import serve_forever
        from mavi_sync.emulator.store import Timing
    except ImportError:
        raise MaviSyncError("the emulator needs aiohttp", hint="pip install 'mavi-sync[emulator]'") from None
    faults = faults_from(args.fault)
    defaults = Settings()
    settings = Settings(
        api_key=os.environ.get(args.api_key_env, "").strip() or defaults.api_key,
        security_key=os.environ.get(args.security_key_env, "").strip() or defaults.security_key,
        timing=Timing(visible_delay_s=args.visible_delay, parse_delay_s=args.parse_delay,
                      signed_url_ttl_s=args.signed_url_ttl),
        keep_bytes=not args.discard_bytes, seed=args.seed)
    # A directory of its own goes when the emulator stops (SIGTERM, Ctrl-C: aiohttp returns
    # from both); one given with --data-dir is the owner's, kept for the next start.
    with contextlib.ExitStack() as own:
        data_dir = args.data_dir or Path(own.enter_context(tempfile.TemporaryDirectory(prefix="mavi-emulator-")))
        data_dir.mkdir(parents=True, exist_ok=True)
        print(f"memories.ai emulator on http://{args.host}:{args.port} (data in {data_dir}); "
              f"admin: /_admin/faults /_admin/uploads /_admin/stats", file=sys.stderr, flush=True)
        serve_forever(data_dir, settings, faults, args.host, args.port)
    return 0
