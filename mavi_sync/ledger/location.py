"""Where a config's ledger file lives: `[ledger] path`, the service's state directory, or
the platform's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

import platformdirs

LEDGER_NAME = "ledger.sqlite3"


def default_ledger_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """$STATE_DIRECTORY/ledger.sqlite3 under systemd, else the platform's state directory."""
    env = os.environ if environ is None else environ
    state_dir = env.get("STATE_DIRECTORY", "").split(":")[0]
    if state_dir:
        return Path(state_dir) / LEDGER_NAME
    return platformdirs.user_state_path("mavi-sync") / LEDGER_NAME


# The units' ConfigurationDirectory= and the state directories they give each config
# (systemd/mavi-sync.service: config.toml; mavi-sync@NAME.service: NAME.toml).
SERVICE_CONFIG_DIR = Path("/etc/mavi-sync")
SERVICE_STATE_ROOT = Path("/var/lib")


def service_state_dir(config_source: Optional[Path]) -> Optional[Path]:
    """The state directory of the unit that runs `config_source`, when it is one of the
    units' configs: /var/lib/mavi-sync for config.toml, /var/lib/mavi-sync-NAME for NAME.toml."""
    if config_source is None:
        return None
    source = Path(os.path.abspath(config_source))
    if source.parent != SERVICE_CONFIG_DIR or source.suffix != ".toml":
        return None
    return SERVICE_STATE_ROOT / ("mavi-sync" if source.name == "config.toml" else f"mavi-sync-{source.stem}")


def ledger_path_for(configured: Optional[Path], config_source: Optional[Path],
                    environ: Optional[Mapping[str, str]] = None) -> Path:
    """The ledger a config uses, for the daemon and every command alike: `[ledger] path`;
    else the service's state directory (the daemon under systemd; a shell given the
    service's config, so `status --config /etc/mavi-sync/config.toml` reads what the service
    writes); else the platform's state directory."""
    env = os.environ if environ is None else environ
    if configured is not None:
        return configured
    if env.get("STATE_DIRECTORY"):
        return default_ledger_path(env)
    service = service_state_dir(config_source)
    return service / LEDGER_NAME if service is not None else default_ledger_path(env)
