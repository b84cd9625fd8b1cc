"""[fleet]: the shared PostgreSQL database of several boxes on one account. Pure."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mavi_sync.config.reader import Table
from mavi_sync.config.schema import FleetConfig
from mavi_sync.config.web import secret_table

_NODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def fleet(t: Table) -> FleetConfig:
    d = FleetConfig()
    database = t.string("database", "")
    if database:
        parts = urlsplit(database)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not parts.path.strip("/"):
            t.problem("database", "(hidden)" if parts.password else database,
                      "a URL like postgresql://mavi_node@db.example:5432/mavi")
            database = ""
        elif parts.password is not None:
            t.problem("database", "(hidden: it holds a password)", "the URL without its password; give the "
                      "password in [fleet] password (a systemd credential, a file or an environment variable)")
            database = ""
    password = secret_table(t, "password", d.password)
    node = t.string("node", "")
    if node and not _NODE.match(node):
        t.problem("node", node, "a name of letters, digits, '.', '_' or '-' (at most 63), or \"\" for the host name")
        node = ""
    t.finish()
    return FleetConfig(database, password, node)
