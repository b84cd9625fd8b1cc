"""The `daemon` table: what the running daemon reports about itself (paused reason, outage,
heartbeat) for `status`, the web page and the metrics to read."""

from __future__ import annotations

from typing import Optional

from mavi_sync.ledger.connection import LedgerBase


class DaemonTable(LedgerBase):
    """The daemon's own report: mixed into `Ledger` (store.py); keyed per node in a fleet."""

    def set_daemon(self, **values: Optional[str]) -> None:
        """Record what the daemon wants `status` to show (None removes a key)."""
        with self._tx() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM daemon WHERE key = ?", (key,))
                else:
                    db.execute("INSERT INTO daemon (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                               "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                               (key, value, self._clock()))

    def daemon(self) -> dict[str, tuple[str, float]]:
        """{key: (value, updated_at)} as the daemon last wrote them."""
        return {r[0]: (r[1], float(r[2])) for r in self._read("SELECT key, value, updated_at FROM daemon")}
