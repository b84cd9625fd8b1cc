"""[web]: where the status page listens, and the password it asks for beyond loopback. Pure.

Loopback is decided here, once: the page on 127.0.0.1, ::1 or localhost is for whoever is
on the box (like `mavi-sync status`); anywhere else it is for the network, and needs a
password. Whether that password can be found is the daemon's question, at start (the
environment and the credentials directory are the service's, not the config's).
"""

from __future__ import annotations

import ipaddress
from typing import Optional

from mavi_sync.config.reader import Table
from mavi_sync.config.schema import KeySource, WebConfig

LISTEN_EXAMPLE = '"127.0.0.1:8780" (this box only), "0.0.0.0:8780" (the network: needs a password) or "" (off)'


def split_listen(listen: str) -> Optional[tuple[str, int]]:
    """("127.0.0.1", 8780) from "127.0.0.1:8780", "[::1]:8780" or a bare "8780"; None when malformed."""
    host, sep, port = listen.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", listen
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or int(port) > 65535:
        return None
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for an address only this box can reach: 127.0.0.0/8, ::1, "localhost"."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def secret_table(t: Table, name: str, default: KeySource) -> KeySource:
    """A secret given like the API key: { env = "…" }, { file = "…" }, { credential = "…" } or
    { value = "…" } (clear text, warned about); `default` when the key is absent."""
    if not t.has(name):
        t.value(name)
        return default
    if not isinstance(t.value(name), dict):
        t.problem(name, "(hidden)", "a table naming where it is: { env = \"…\" }, { file = \"…\" } "
                                    "or { credential = \"…\" }")
        return default
    sub = t.table(name)
    source = KeySource(env=sub.string("env", ""), file=sub.path("file", None),
                       credential=sub.string("credential", ""), value=sub.string("value", ""))
    sub.finish()
    return source


def web(t: Table) -> WebConfig:
    listen = t.string("listen", "")
    if listen:
        where = split_listen(listen)
        if where is None:
            t.problem("listen", listen, f"HOST:PORT to serve the status page on, e.g. {LISTEN_EXAMPLE}")
            listen = ""
        else:
            host, port = where
            listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    password = secret_table(t, "password", WebConfig().password)
    t.finish()
    return WebConfig(listen, password)
