"""The fleet's set-up as its guide (docs/guides/fleet.md) tells the owner to do it, on a
real PostgreSQL: the SQL a superuser runs, the `mavi-sync fleet init` the owner runs, then a
node whose role has only the rights the guide lists joins: the daemon starts, uploads and
shows in `status --fleet`, and that role can create nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.fleet.owner import GRANTS
from mavi_sync.ledger.schema import MIGRATIONS
from tests.conftest import REPO
from tests.e2e.rig import CLI, Daemon, until
from tests.pg import PostgresServer


def _fleet_section() -> str:
    """The guide's "Setting up the database" and "Least privileges"."""
    guide = (REPO / "docs/guides/fleet.md").read_text(encoding="utf-8")
    start = guide.index("## Setting up the database")
    return guide[start:guide.index("## One ledger", start)]


def _guide_setup() -> "tuple[str, str]":
    """(the SQL block, the `mavi-sync fleet init` line) of the fleet guide."""
    section = _fleet_section()
    sql = re.search(r"```sql\n(.*?)```", section, re.S)
    command = re.search(r"^\s*(mavi-sync fleet init .*)$", section, re.M)
    assert sql and command, "the fleet guide lost its set-up SQL or its fleet init command"
    return "\n".join(line.strip() for line in sql.group(1).splitlines()), command.group(1).strip()


def _fleet_init(*args: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAVI_")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60,
                          env={**env, "MAVI_FLEET_PASSWORD": password})


@dataclass(frozen=True)
class Fleet:
    """What the guide's set-up made, under names of this test's own."""

    database: str
    owner: str
    owner_pw: str
    node: str
    node_pw: str
    init: list[str]  # the guide's `mavi-sync fleet init` arguments, as the owner runs them
    node_url: str


def _set_up_by_the_guide(postgres: PostgresServer) -> Fleet:
    """The guide's SQL, as a superuser; nothing run as the owner yet."""
    sql, command = _guide_setup()
    uid = uuid.uuid4().hex[:8]
    owner, node, database = f"owner_{uid}", f"node_{uid}", f"fleet_{uid}"
    owner_pw, node_pw = f"own-{uid}-pw", f"node-{uid}-pw"
    names = {"mavi_owner": owner, "mavi_node": node, "owner-secret": owner_pw, "node-secret": node_pw}

    def ours(text: str) -> str:
        for old, new in names.items():
            text = text.replace(old, new)
        return re.sub(r"\bmavi\b", database, text).replace("db.example:5432", f"127.0.0.1:{postgres.port}")

    postgres.script(ours(sql))
    return Fleet(database, owner, owner_pw, node, node_pw, ours(command).split()[1:],
                 f"postgresql://{node}@127.0.0.1:{postgres.port}/{database}")


def test_the_guide_setup_lets_a_node_with_least_privileges_join(postgres: PostgresServer, tmp_path: Path,
                                                                 emulator: EmulatorServer, admin: Admin) -> None:
    f = _set_up_by_the_guide(postgres)
    node, node_pw, node_url = f.node, f.node_pw, f.node_url
    first = _fleet_init(*f.init, password=f.owner_pw)
    assert first.returncode == 0, first.stderr
    assert f"127.0.0.1:{postgres.port}/{f.database}: created the tables" in first.stdout, first.stdout
    assert f"granted to {node}: CONNECT on the database; SELECT, INSERT, UPDATE on fleet_schema" in first.stdout
    again = _fleet_init(*f.init, password=f.owner_pw)
    assert again.returncode == 0 and "the tables were there already" in again.stdout, again.stdout + again.stderr

    d = Daemon(tmp_path, emulator.url, tables=f'[fleet]\ndatabase = "{node_url}"\nnode = "barn"\n')
    d.start(env={"MAVI_FLEET_PASSWORD": node_pw})
    write_image(d.camera / "a.jpg", ImageSpec(make="Canon"))
    until(lambda: d.count("confirmed") == 1, 30)
    fleet = subprocess.run([*CLI, "status", "--fleet", "--json", "--config", str(d.config)], capture_output=True,
                           text=True, timeout=60, env={**os.environ, "MAVI_FLEET_PASSWORD": node_pw})
    assert d.stop() == 0
    assert [(r["node"], r["running"]) for r in json.loads(fleet.stdout)] == [("barn", True)], fleet.stderr
    assert len(admin.uploads("image")) == 1
    # The rights it has are the guide's, and no more: it can create nothing.
    with psycopg.connect(node_url, password=node_pw, autocommit=True) as conn:
        granted = conn.execute("SELECT table_name, string_agg(privilege_type, ', ' ORDER BY privilege_type) "
                               "FROM information_schema.role_table_grants WHERE grantee = %s "
                               "GROUP BY table_name", (node,)).fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE intruder (x int)")
    expected = {table: ", ".join(sorted(rights.split(", "))) for rights, tables in GRANTS for table in tables}
    assert dict(granted) == expected
    for right, tables in GRANTS:  # the guide names the same rights on the same tables
        assert f"`{right}` on" in " ".join(_fleet_section().split()), right
        assert all(f"`{t}`" in _fleet_section() for t in tables)
    outputs = first.stdout + first.stderr + again.stdout + d.logs() + fleet.stdout + fleet.stderr
    assert f.owner_pw not in outputs and node_pw not in outputs


def test_after_an_upgrade_the_owner_runs_fleet_init_again_and_the_node_goes_on(postgres: PostgresServer,
                                                                              tmp_path: Path) -> None:
    """A node with least privileges cannot bring the tables up to a new version (it may not
    CREATE); the guide says the owner runs the same command again first. A database left
    at schema 9 (before duties and places) stands for an older release's."""
    f = _set_up_by_the_guide(postgres)
    assert _fleet_init(*f.init, password=f.owner_pw).returncode == 0
    postgres.sql(f.database, "DROP TABLE server_folders; DROP INDEX files_remote; DROP TABLE duties; DROP TABLE places; "
                             "UPDATE ledger_schema SET version = 9")
    (tmp_path / "cam").mkdir()
    config = tmp_path / "node.toml"
    config.write_text(f'[[folders]]\npath = "{tmp_path / "cam"}"\n[fleet]\ndatabase = "{f.node_url}"\nnode = "barn"\n')

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "status", "--config", str(config)], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "MAVI_FLEET_PASSWORD": f.node_pw})

    before = status()
    assert before.returncode == 1 and "permission denied" in before.stderr, before.stdout + before.stderr
    upgrade = _fleet_init(*f.init, password=f.owner_pw)
    assert upgrade.returncode == 0 and f"brought the ledger's tables from schema 9 to {len(MIGRATIONS)}" in upgrade.stdout, \
        upgrade.stdout + upgrade.stderr
    after = status()
    assert after.returncode == 0, after.stderr
    assert f.node_pw not in before.stderr + after.stdout and f.owner_pw not in upgrade.stdout + upgrade.stderr


def test_fleet_init_refuses_a_url_with_a_password_and_one_it_cannot_reach_says_why(tmp_path: Path) -> None:
    leaky = _fleet_init("fleet", "init", "--database", "postgresql://o:hunter2-pw@127.0.0.1:1/x", password="p")
    assert leaky.returncode == 2 and "without its password" in leaky.stderr and "hunter2-pw" not in leaky.stderr
    nothing = _fleet_init("fleet", "init", password="p")
    assert nothing.returncode == 2 and "--database" in nothing.stderr
    away = _fleet_init("fleet", "init", "--database", "postgresql://o@127.0.0.1:1/x", password="p")
    assert away.returncode == 1 and "127.0.0.1:1/x" in away.stderr and "Try:" in away.stderr, away.stderr
