"""[fleet]: the shared PostgreSQL database of several boxes on one account. Pure."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import parse_qsl, urlsplit

from mavi_sync.config.reader import Table
from mavi_sync.config.schema import FleetConfig
from mavi_sync.config.web import secret_table

_NODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def database_origin(url: str) -> str:
    """What may be shown of the fleet database's URL: where it is and the role, never a
    password nor the query (libpq takes `password=` there too)."""
    parts = urlsplit(url)
    role = f" (role {parts.username})" if parts.username else ""
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 5432}{parts.path}{role}"


def database_problem(url: str) -> Optional[tuple[str, str]]:
    """(the value as it may be shown, what was expected) when `url` is not a PostgreSQL URL
    without a password; None when it is. A password in it is never shown."""
    parts = urlsplit(url)
    secret = parts.password is not None or "password" in {k.lower() for k, _ in parse_qsl(parts.query)}
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not parts.path.strip("/"):
        return ("(hidden)" if secret else url, "a URL like postgresql://mavi_node@db.example:5432/mavi")
    if secret:
        return ("(hidden: it holds a password)", "the URL without its password; give the password in [fleet] "
                "password (a systemd credential, a file or an environment variable)")
    return None


def fleet(t: Table) -> FleetConfig:
    d = FleetConfig()
    database = t.string("database", "")
    problem = database_problem(database) if database else None
    if problem is not None:
        t.problem("database", *problem)
        database = ""
    password = secret_table(t, "password", d.password)
    node = t.string("node", "")
    if node and not _NODE.match(node):
        t.problem("node", node, "a name of letters, digits, '.', '_' or '-' (at most 63), or \"\" for the host name")
        node = ""
    t.finish()
    return FleetConfig(database, password, node)
