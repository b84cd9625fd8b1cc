"""`mavi-sync check-config`: is the config valid, and is this box ready to run it? The verdict
first (`PATH: OK`, exit 0, or `PATH: NOT READY`, exit 1, with why on stderr: never both;
an invalid config exits 2), then what it means, line by line: where the ledger is, where
each key and URL comes from (never the key or the URL), the folders, the bandwidth cap in
the rates it means."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from mavi_sync.commands.common import EXIT_ERROR, EXIT_OK, config_at, ledger_path
from mavi_sync.config import Config
from mavi_sync.config.fleet import database_origin
from mavi_sync.config.schema import KeySource
from mavi_sync.config.secrets import resolve_key
from mavi_sync.config.unattended import service_name
from mavi_sync.owner.courier import notify_url_problem
from mavi_sync.errors import MaviSyncError
from mavi_sync.web.server import password_for


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("check-config", help="validate a config file and show what it means")
    p.add_argument("path", nargs="?", type=Path, help="config file (default: see README)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_at(args.path)
    shown = [f"  ledger      {_ledger_line(config)}"]
    missing = []
    for name, source, needed in _keys_needed(config):
        try:
            shown.append(f"  {name:<11} found ({resolve_key(source, name).origin})")
        except MaviSyncError as exc:
            shown.append(f"  {name:<11} {'MISSING' if needed else 'not set'}: {exc}")
            missing += [name] if needed else []
    u = config.uploads
    shown.append(f"  uploads     {u.concurrency} workers, {u.rate_limit_per_minute:g} requests/min, "
                 f"{u.max_attempts} attempts")
    for folder in config.folders:
        shown.append(f"  folder      {folder.path} → {folder.target}"
                     f"{' (recursive)' if folder.recursive else ''}, after upload: {folder.after_upload}"
                     + (f" to {folder.archive_dir}" if folder.after_upload == "archive" else ""))
    unusable = _unattended_lines(config, shown)
    shown += [f"  WARNING     {warning}" for warning in config.warnings]
    # The verdict first, and only one: a config that is valid but not ready is not OK.
    print("\n".join([f"{config.source}: {'NOT READY' if missing or unusable else 'OK'}", *shown]))
    if missing:
        print(f"not ready: no {' and no '.join(missing)} for the folders that need it "
              "(the daemon would pause until there is)", file=sys.stderr)
    if unusable:
        print(f"not ready: {', '.join(unusable)} (the daemon would run without them)", file=sys.stderr)
    return EXIT_ERROR if missing or unusable else EXIT_OK


def _ledger_line(config: Config) -> str:
    """Where the ledger is: the SQLite file, or in a fleet the fleet's database (where it is
    and the role, never a password), this box's node and where its password comes from."""
    if not config.fleet.database:
        return str(ledger_path(config))
    try:
        origin = resolve_key(config.fleet.password, "fleet database password", key_path="[fleet] password").origin
    except MaviSyncError:
        origin = "none found: the role must log in without one"
    return (f"the fleet's database {database_origin(config.fleet.database)}, as node "
            f"{config.fleet.node or socket.gethostname()} (password: {origin})")


def _unattended_lines(config: Config, shown: list[str]) -> list[str]:
    """[bandwidth], [notify] and [health] as check-config shows them (added to `shown`): each
    URL by its service and where it comes from, never the URL (it holds a token). Returns
    what cannot be used."""
    b = config.bandwidth
    shown.append(f"  bandwidth   cap {b.limit.text}: {b.limit.describe()}"
                 + (f"; windows {', '.join(b.windows.texts)}" if b.windows.texts else ""))
    missing = []
    password, problem = password_for(config)
    who = f"password: {password.origin}" if password else "this box only"
    shown.append("  web         " + (f"MISSING: {problem}" if problem else
                                     f"http://{config.web.listen}/ ({who})" if config.web.listen else "off"))
    missing += ["no [web] password"] if problem else []
    sources = [(f"notify {i + 1}", t.url, f"notify.targets[{i}].url", ", ".join(t.events))
               for i, t in enumerate(config.notify.targets)]
    sources += [(f"health {n}", getattr(config.health, n), f"health.{n}", f"every {config.health.interval_s:g} s")
                for n in ("ping", "fail") if getattr(config.health, n).is_set()]
    for label, source, key_path, what in sources:
        try:
            url = resolve_key(source, f"{label} URL", key_path=key_path)
        except MaviSyncError as exc:
            shown.append(f"  {label:<11} MISSING: {exc}")
            missing.append(f"no {label} URL")
            continue
        problem = notify_url_problem(url.reveal()) if label.startswith("notify") else None
        shown.append(f"  {label:<11} {service_name(url.reveal())} ({url.origin}): {problem or what}")
        if problem:
            missing.append(f"the {label} URL is not one Apprise reads")
    return missing


def _keys_needed(config: Config) -> list[tuple[str, KeySource, bool]]:
    """Each key, and whether a folder's target needs it (security: its own key; the rest: the API key)."""
    targets = {f.target for f in config.folders}
    return [("api key", config.api.key, bool(targets - {"security"})),
            ("security key", config.api.security_key, "security" in targets)]
