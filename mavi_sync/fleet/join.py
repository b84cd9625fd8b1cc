"""A box joining its fleet: the database, its node in the registry, and the account's shared
rate budgets for uploads and queries (what daemon/wiring.py assemble hands the client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from mavi_sync.config.schema import Config
from mavi_sync.config.secrets import Secret, resolve_key
from mavi_sync.errors import SecretError
from mavi_sync.fleet.budget import SharedLimiter
from mavi_sync.fleet.db import FleetDatabase
from mavi_sync.fleet.nodes import Registry, node_name
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.fleet")


@dataclass
class Fleet:
    db: FleetDatabase
    registry: Registry
    limiters: tuple[SharedLimiter, SharedLimiter]  # (upload, query)

    def close(self) -> None:
        self.db.close()


def password_of(config: Config) -> Optional[Secret]:
    """The database password, looked up like the API key; None when none is set anywhere
    (a role that logs in without one: peer or certificate authentication)."""
    try:
        return resolve_key(config.fleet.password, "fleet database password", key_path="[fleet] password")
    except SecretError:
        return None


def database_of(config: Config) -> FleetDatabase:
    return FleetDatabase(config.fleet.database, password_of(config)).open()


def join(config: Config) -> Optional[Fleet]:
    if not config.fleet.database:
        return None
    db = database_of(config)
    u = config.uploads
    # No burst, as a box's own limiters (api/client.py): one slot apart, a request may arrive a slot late.
    limiters = (SharedLimiter(db, "upload", u.rate_limit_per_minute / 60.0),
                SharedLimiter(db, "query", u.query_rate_limit_per_second))
    name = node_name(config.fleet.node)
    log.info("fleet_joined", node=name, database=db.where)
    return Fleet(db, Registry(db, name), limiters)
