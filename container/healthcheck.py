#!/opt/mavi-sync/bin/python
"""The image's HEALTHCHECK: exit 0 when the daemon is healthy, 1 when it is not.

It asks the daemon's web page, `GET /healthz` on the address the config's `[web] listen`
names (200 = healthy, anything else or no answer = unhealthy): the daemon itself decides
what healthy means, this only carries the answer to the container engine. With no `[web]
listen` in the config it falls back to `mavi-sync status --json`: healthy while the daemon's
heartbeat in the ledger is fresh. Kept to the standard library and one TOML read, because
the engine runs it every minute on boxes with little CPU to spare.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

try:
    import tomllib
except ImportError:  # Python 3.10: the package depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

CONFIG = os.environ.get("MAVI_SYNC_CONFIG", "/config/config.toml")
TIMEOUT_S = 5
# The web page's own default `listen`, used when the config has a [web] table without one.
# None: no default known to this check, so the status fallback answers.
DEFAULT_LISTEN: str | None = None
# An address the daemon listens on for every interface is reached on loopback here.
WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "[::]": "::1"}


def healthz_url(listen: str) -> str:
    """http://HOST:PORT/healthz for a `[web] listen` of "HOST:PORT" ("[v6]:PORT" too)."""
    host, _, port = listen.rpartition(":")
    host = WILDCARDS.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def web_listen() -> str | None:
    with open(CONFIG, "rb") as fh:
        web = tomllib.load(fh).get("web")
    if not isinstance(web, dict):
        return None
    listen = web.get("listen", DEFAULT_LISTEN)
    return listen if isinstance(listen, str) and listen else None


def check_web(listen: str) -> int:
    url = healthz_url(listen)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            code = answer.status
    except urllib.error.HTTPError as exc:  # 503: the daemon says it is not healthy
        code = exc.code
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}")
        return 1
    print(f"{'healthy' if code == 200 else 'unhealthy'}: {url} answered {code}")
    return 0 if code == 200 else 1


def check_status() -> int:
    done = subprocess.run(["mavi-sync", "status", "--json"], capture_output=True, text=True, timeout=TIMEOUT_S * 4)
    if done.returncode != 0:
        print(f"unhealthy: mavi-sync status exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return 1
    running = json.loads(done.stdout).get("running")
    print("healthy: the daemon's heartbeat is fresh" if running else "unhealthy: no fresh heartbeat from the daemon")
    return 0 if running else 1


def main() -> int:
    try:
        listen = web_listen()
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"unhealthy: cannot read {CONFIG}: {exc}")
        return 1
    return check_web(listen) if listen else check_status()


if __name__ == "__main__":
    sys.exit(main())
