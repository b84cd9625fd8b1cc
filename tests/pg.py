"""A real PostgreSQL for the fleet tests: Debian's binaries (`make test` installs the
`postgresql` package when it is missing and it runs as root), a throw-away cluster in a
temporary directory, listening on 127.0.0.1 and a Unix socket there. Tests reach it as a
role with a password over TCP, as a node would. Skipped, with the reason, where there are
no binaries, or when run as root without a `postgres` user to run the server as."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Optional

ROLE, PASSWORD = "mavi_node", "pg-secret-7d1e4b"


def binaries() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def unavailable() -> Optional[str]:
    if binaries() is None:
        return "no PostgreSQL binaries (/usr/lib/postgresql/*/bin): `make test` installs Debian's postgresql as root"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.bin = binaries()
        assert self.bin is not None
        self.dir = Path(tempfile.mkdtemp(prefix="mavi-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.dir.chmod(0o755)

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120, check=True)

    def start(self) -> "PostgresServer":
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        self.resume()
        self.sql("postgres", f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def resume(self) -> None:
        """Start the server (again, on the same port and data)."""
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c max_connections=100 -c shared_buffers=32MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options,
                  "-w", "-t", "60", "start")

    def pause(self) -> None:
        """Stop the server, keeping its data: the database is gone, as far as its clients can tell."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def sql(self, database: str, statement: str) -> str:
        return self._run(str(self.bin / "psql"), "-h", str(self.dir), "-p", str(self.port), "-U", "postgres",
                         "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", statement).stdout

    def script(self, text: str, database: str = "postgres") -> str:
        """A psql script as a superuser types it (meta-commands such as \\connect included)."""
        return subprocess.run([*self._as, str(self.bin / "psql"), "-h", str(self.dir), "-p", str(self.port),
                               "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Aq", "-f", "-"],
                              input=text, capture_output=True, text=True, timeout=120, check=True).stdout

    def database(self) -> str:
        """A fresh database owned by the node role; its URL without the password."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.sql("postgres", f"CREATE DATABASE {name} OWNER {ROLE}")
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        for _ in range(50):
            try:
                shutil.rmtree(self.dir)
                return
            except OSError:
                time.sleep(0.1)
