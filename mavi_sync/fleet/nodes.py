"""The fleet's nodes: each box registers under its name (default: the host name) and beats
with its one-line summary and pause reason, so `status --fleet` shows every site at once."""

from __future__ import annotations

import os
import socket
from typing import Any, Optional

from mavi_sync.fleet.db import NOW, FleetDatabase

RUNNING_S = 30.0  # a node that beat this recently is running (as status's heartbeat)


def node_name(configured: str) -> str:
    return configured or socket.gethostname()


class Registry:
    def __init__(self, db: FleetDatabase, name: str) -> None:
        self.db = db
        self.name = name

    def beat(self, summary: str, paused: Optional[str], *, starting: bool = False) -> None:
        """Raises FleetUnavailable (the caller logs it and goes on)."""
        self.db.ensure_schema()
        with self.db.transaction() as cur:
            cur.execute(f"INSERT INTO nodes (name, started_at, seen_at, pid, summary, paused) VALUES "
                        f"(%s, {NOW}, {NOW}, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at, "
                        "pid = excluded.pid, summary = excluded.summary, paused = excluded.paused"
                        + (", started_at = excluded.started_at" if starting else ""),
                        (self.name, os.getpid(), summary, paused))

    def left(self) -> None:
        with self.db.transaction() as cur:
            cur.execute("UPDATE nodes SET pid = NULL, seen_at = seen_at WHERE name = %s", (self.name,))


def fleet_rows(db: FleetDatabase) -> list[dict[str, Any]]:
    """Every node: name, running, seconds since last seen, summary, paused reason."""
    db.ensure_schema()
    with db.transaction() as cur:
        cur.execute(f"SELECT name, pid, {NOW} - seen_at, summary, paused, started_at FROM nodes ORDER BY name")
        rows = cur.fetchall()
    return [{"node": r[0], "running": r[1] is not None and float(r[2]) < RUNNING_S,
             "last_seen_s": round(float(r[2]), 1), "summary": r[3], "paused": r[4]} for r in rows]
