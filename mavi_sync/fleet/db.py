"""The fleet's PostgreSQL database: a small psycopg 3 pool, the fleet tables' migrations,
and the boundary where psycopg's errors become FleetUnavailable (nothing above sees them).

The password comes from [fleet] password, resolved like the API key, and goes to libpq as
a connection parameter: it is never part of a URL, a log line or an error message.

A database that goes away is said once (`fleet_database_unreachable`, with what to do) and
its return once (`fleet_database_back`); the pool's own warnings, one per reconnection try
(eight a node in twelve seconds), are not passed on.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mavi_sync.config.secrets import Secret
from mavi_sync.errors import FleetUnavailable
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.fleet")
POOL = "mavi-fleet"
HINT = ("Check that the database server runs and that this box reaches it; uploads go on at this "
        "node's share of the rate, intake waits, nothing is lost.")

CONNECT_TIMEOUT_S = 3
# Each entry moves the fleet schema one version up; never edit a shipped entry.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE rate_budget (kind TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL,
                              sent_tat DOUBLE PRECISION NOT NULL, rate DOUBLE PRECISION NOT NULL,
                              ceiling DOUBLE PRECISION NOT NULL, burst INTEGER NOT NULL);
    CREATE TABLE nodes (name TEXT PRIMARY KEY, started_at DOUBLE PRECISION NOT NULL,
                        seen_at DOUBLE PRECISION NOT NULL, pid INTEGER, summary TEXT, paused TEXT);
    """,
)
NOW = "extract(epoch from clock_timestamp())::double precision"  # the database's clock: one for every node


class _PoolChatter(logging.Filter):
    """psycopg_pool warns at every reconnection try of our pool; FleetDatabase says it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or f"'{POOL}'" not in record.getMessage() and not (
            record.getMessage().startswith(("discarding", "rolling back")))


_CHATTER = _PoolChatter()


class FleetDatabase:
    def __init__(self, url: str, password: Optional[Secret]) -> None:
        parts = urlsplit(url)
        self.where = f"{parts.hostname}:{parts.port or 5432}{parts.path}"  # for messages: no role, no password
        self._password = password
        kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "mavi-sync",
                                  "autocommit": True}
        if password is not None:
            kwargs["password"] = password.reveal()
        self._url, self._kwargs = url, kwargs
        self._migrated = False
        self._down_since: Optional[float] = None  # when the database stopped answering
        self._lock = threading.Lock()
        pool_log = logging.getLogger("psycopg.pool")
        if _CHATTER not in pool_log.filters:
            pool_log.addFilter(_CHATTER)
        self._pool = ConnectionPool(url, kwargs=kwargs, min_size=1, max_size=3, open=False,
                                    timeout=CONNECT_TIMEOUT_S, check=ConnectionPool.check_connection,
                                    name=POOL)

    def open(self) -> "FleetDatabase":
        """Start the pool (it connects in the background: a database that is down now is not
        an error yet; the first statement says so)."""
        self._pool.open(wait=False)
        return self

    def ensure_schema(self) -> None:
        """The fleet tables, migrated once per process (at the first statement that needs them)."""
        if not self._migrated:
            self.migrate()
            self._migrated = True

    def close(self) -> None:
        self._pool.close(timeout=5)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction on a pooled connection; FleetUnavailable for any database error."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except PoolTimeout:
            why = self._why_not()
            raise self._unavailable(why, away=not why.startswith("no connection free")) from None
        except psycopg.OperationalError as exc:  # the connection: refused, reset, shut down
            raise self._unavailable(self._scrub(exc), away=True) from None
        except psycopg.Error as exc:  # the statement: permissions, a schema another version made
            raise self._unavailable(self._scrub(exc), away=False) from None
        self._answered()

    def _unavailable(self, why: str, *, away: bool) -> FleetUnavailable:
        """The error to raise. The first that says the database is away is logged, once."""
        error = FleetUnavailable(f"the fleet database {self.where}: {why}", hint=HINT if away else "")
        if away:
            with self._lock:
                news = self._down_since is None
                if news:
                    self._down_since = time.monotonic()
            if news:
                log.warning("fleet_database_unreachable", database=self.where, error=why, hint=HINT)
        return error

    def _answered(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.info("fleet_database_back", database=self.where, down_s=round(time.monotonic() - since, 1))

    def _why_not(self) -> str:
        """The pool only says it timed out: one connection of our own says why."""
        try:
            psycopg.connect(self._url, **self._kwargs).close()
        except psycopg.Error as exc:
            return self._scrub(exc)
        return f"no connection free within {CONNECT_TIMEOUT_S} s"

    def _scrub(self, exc: BaseException) -> str:
        text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        if self._password is not None:
            text = text.replace(self._password.reveal(), "***")
        return text or exc.__class__.__name__

    def migrate(self) -> None:
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(4711018)")  # nodes starting together migrate once
            cur.execute("SELECT to_regclass('fleet_schema') IS NOT NULL")
            exists = cur.fetchone()
            if not (exists and exists[0]):  # (a node whose role may not CREATE never gets here once set up)
                cur.execute("CREATE TABLE fleet_schema (version INTEGER NOT NULL)")
            cur.execute("SELECT version FROM fleet_schema")
            row = cur.fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise FleetUnavailable(f"the fleet database {self.where} has schema version {version}, newer "
                                       f"than this mavi-sync knows ({len(MIGRATIONS)})")
            if version == len(MIGRATIONS):
                return
            for script in MIGRATIONS[version:]:
                cur.execute(script)
            if row is None:
                cur.execute("INSERT INTO fleet_schema (version) VALUES (%s)", (len(MIGRATIONS),))
            else:
                cur.execute("UPDATE fleet_schema SET version = %s", (len(MIGRATIONS),))
