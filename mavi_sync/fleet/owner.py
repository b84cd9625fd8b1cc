"""What the fleet database's owner does once, before any node joins (`mavi-sync fleet init`):
create the fleet's tables (fleet/db.py) and the ledger's (fleet/ledger.py), each by the code
that uses them, and give each node's role what it needs, nothing more.

Nodes then run with least privileges: no CREATE anywhere, only the rights on the tables
listed in GRANTS (docs/guides/fleet.md, "Least privileges", says the same; a test holds
both to a node that joins with exactly these). Running it again changes nothing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from psycopg import sql

from mavi_sync.config.secrets import Secret
from mavi_sync.fleet.db import MIGRATIONS, FleetDatabase
from mavi_sync.fleet.ledger import PostgresLedger

# A node's rights, table by table: the budget and the registry are only ever written, the
# ledger's rows are also deleted (a path forgotten, a mark dropped).
GRANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SELECT, INSERT, UPDATE", ("fleet_schema", "rate_budget", "nodes")),
    ("SELECT, INSERT, UPDATE, DELETE", ("files", "paths", "daemon", "skipped", "dir_marks", "duties", "places", "server_folders",
                                        "ledger_schema")),
)
OWNER_NODE = "(owner)"  # the name the owner's ledger connection goes by: it registers nothing


@dataclass(frozen=True)
class Setup:
    where: str  # host:port/database
    found: Optional[int]  # the ledger's schema before: None when there were no tables
    fleet_schema: int
    ledger_schema: int
    granted: tuple[str, ...]  # the roles given a node's rights

    def text(self) -> str:
        made = ("created the tables" if self.found is None else "the tables were there already"
                if self.found == self.ledger_schema else
                f"brought the ledger's tables from schema {self.found} to {self.ledger_schema}")
        lines = [f"fleet database {self.where}: {made} (fleet schema {self.fleet_schema}, "
                 f"ledger schema {self.ledger_schema})"]
        rights = "; ".join(f"{what} on {', '.join(tables)}" for what, tables in GRANTS)
        lines += [f"granted to {role}: CONNECT on the database; {rights}" for role in self.granted]
        return "\n".join(lines)


def init(url: str, password: Optional[Secret], grant_to: Sequence[str] = ()) -> Setup:
    """Create what is missing, bring the tables up to this version's schema (a node with a
    node's rights cannot: after an upgrade the owner runs this again) and grant `grant_to`
    a node's rights, as the role in `url` (the database's owner). Raises FleetUnavailable or
    LedgerError with the database's reason."""
    db = FleetDatabase(url, password).open()
    try:
        found = _ledger_schema(db)
        db.migrate()
        with tempfile.TemporaryDirectory(prefix="mavi-fleet-init-") as state:  # (nothing is staged here)
            ledger = PostgresLedger(url, password, OWNER_NODE, Path(state) / "ledger")
            try:
                ledger_version = ledger.schema_version()
            finally:
                ledger.close()
        for role in grant_to:
            _grant(db, role)
        return Setup(db.where, found, len(MIGRATIONS), ledger_version, tuple(grant_to))
    finally:
        db.close()


def _ledger_schema(db: FleetDatabase) -> Optional[int]:
    """The ledger's schema version as found; None when its tables are not there yet."""
    with db.transaction() as cur:
        cur.execute("SELECT to_regclass('ledger_schema') IS NOT NULL")
        row = cur.fetchone()
        if not (row and row[0]):
            return None
        cur.execute("SELECT version FROM ledger_schema")
        row = cur.fetchone()
    return int(row[0]) if row else None


def _grant(db: FleetDatabase, role: str) -> None:
    with db.transaction() as cur:
        cur.execute("SELECT current_database()")
        row = cur.fetchone()
        assert row is not None
        cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(row[0]), sql.Identifier(role)))
        for rights, tables in GRANTS:
            cur.execute(sql.SQL(f"GRANT {rights} ON {{}} TO {{}}").format(
                sql.SQL(", ").join(map(sql.Identifier, tables)), sql.Identifier(role)))
