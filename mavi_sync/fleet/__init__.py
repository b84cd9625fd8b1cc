"""Several boxes on one memories.ai account, sharing a PostgreSQL database: the account's
rate budget (budget.py), the registry of nodes (nodes.py) and the ledger (ledger.py: content
rows fleet-wide, paths per node) live there; its owner sets it up once (owner.py, `mavi-sync
fleet init`), so that nodes run with least privileges.

`open_ledger` is the one place that decides which ledger a config means; psycopg is only
imported for a fleet."""

from __future__ import annotations

from mavi_sync.config.schema import Config
from mavi_sync.errors import MaviSyncError
from mavi_sync.ledger.location import ledger_path_for
from mavi_sync.ledger.store import Ledger


def open_ledger(config: Config, node: str = "") -> Ledger:
    """The config's ledger: its SQLite file, or in a fleet this node's (or `node`'s) view of
    the fleet's."""
    local = ledger_path_for(config.ledger.path, config.source)
    if not config.fleet.database:
        return Ledger(local)
    try:
        from mavi_sync.fleet.join import password_of
        from mavi_sync.fleet.ledger import PostgresLedger
        from mavi_sync.fleet.nodes import node_name
    except ImportError as exc:
        raise MaviSyncError(f"[fleet] database is set, but the PostgreSQL driver is missing ({exc.name})",
                            hint="Install mavi-sync with its fleet extra: pip install 'mavi-sync[fleet]'.") from None
    return PostgresLedger(config.fleet.database, password_of(config), node or node_name(config.fleet.node), local)
