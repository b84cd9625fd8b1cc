"""`mavi-sync run`: the daemon (what systemd runs): watch the folders and keep them synced
until stopped. daemon/ does the work; this only sets up the logs and hands it the config."""

from __future__ import annotations

import argparse
from pathlib import Path

from mavi_sync.commands.common import CONFIG_HELP, log_setup
from mavi_sync.config import default_config_path, load_config
from mavi_sync.daemon import service


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("run", help="the daemon: watch the folders and keep them synced (systemd runs this)")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = args.config or default_config_path()
    log_setup(load_config(path))
    return service.run(path)
