"""`mavi-sync fleet init`: the database owner's one command before nodes join (owner.py).

The database is `--database URL` (the owner usually has no config of a box) or the `[fleet]
database` of `--config`; the password is looked up as a node's is. psycopg is imported only
when the command runs: it comes with the `fleet` extra.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from mavi_sync.config import load_config
from mavi_sync.config.fleet import database_problem
from mavi_sync.config.schema import FleetConfig, KeySource
from mavi_sync.config.secrets import Secret, resolve_key
from mavi_sync.errors import ConfigError, MaviSyncError, Problem, SecretError


def add_fleet_arguments(sub: "argparse._SubParsersAction[argparse.ArgumentParser]", config_help: str) -> None:
    p = sub.add_parser("fleet", help="the fleet database's owner: create the tables, grant the nodes' role")
    fleet = p.add_subparsers(dest="fleet_command", required=True, metavar="ACTION", help="what to do")
    init = fleet.add_parser("init", help="create the fleet's tables (as the database's owner) and grant a node "
                                         "role what it needs; run again, it changes nothing")
    init.add_argument("--database", metavar="URL", help="postgresql://OWNER@HOST:PORT/DATABASE, no password in it "
                                                        "(default: [fleet] database of --config)")
    init.add_argument("--config", type=Path, metavar="PATH", help=config_help)
    init.add_argument("--grant", action="append", default=[], metavar="ROLE",
                      help="give ROLE a node's rights (CONNECT, and rights on the fleet's tables only); repeatable")


def run_fleet(args: argparse.Namespace) -> int:
    url, password = _database(args)
    try:
        from mavi_sync.fleet.owner import init
    except ImportError as exc:
        raise MaviSyncError(f"fleet init needs the PostgreSQL driver ({exc.name})",
                            hint="Install mavi-sync with its fleet extra: pip install 'mavi-sync[fleet]'.") from None
    try:
        print(init(url, password, args.grant).text())
    except MaviSyncError as exc:
        raise MaviSyncError(str(exc), hint="Run it as the database's owner (the role the SQL in docs/guides/fleet.md "
                                           "makes it), with that role's password in $MAVI_FLEET_PASSWORD.") from None
    return 0


def _database(args: argparse.Namespace) -> "tuple[str, Optional[Secret]]":
    """The URL and password to set up with: --database, else --config's [fleet]."""
    source: KeySource = FleetConfig().password
    url = args.database or ""
    if args.config is not None:
        fleet = load_config(args.config).fleet
        url, source = url or fleet.database, fleet.password
    problem = database_problem(url) if url else (None, "the fleet database's URL, or --config naming a config "
                                                      "with [fleet] database")
    if problem is not None:
        error = ConfigError([Problem("--database", *problem)], source="fleet init")
        error.hint = "mavi-sync fleet init --database postgresql://OWNER@HOST:5432/DATABASE --grant NODE_ROLE"
        raise error
    try:
        return url, resolve_key(source, "fleet database password", key_path="[fleet] password")
    except SecretError:
        return url, None  # a role that logs in without one (peer or certificate authentication)
