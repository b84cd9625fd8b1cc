"""The fleet's ledger on a real PostgreSQL, as two nodes see it: one content row for both,
paths each their own, a claim held by a live node and freed when it is gone, and a node's
role with only the rights docs/guides/fleet.md "Least privileges" lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from mavi_sync.config.secrets import Secret
from mavi_sync.errors import ClaimLost
from mavi_sync.fleet.db import FleetDatabase
from mavi_sync.fleet.ledger import PostgresLedger
from mavi_sync.ledger.schema import MIGRATIONS
from mavi_sync.fleet.nodes import Registry
from mavi_sync.ledger.states import State
from tests.pg import PASSWORD, PostgresServer


def open_as(url: str, node: str, tmp_path: Path, password: str = PASSWORD) -> PostgresLedger:
    return PostgresLedger(url, Secret(password, "test"), node, tmp_path / node / "ledger.sqlite3")


def clip(tmp_path: Path, site: str) -> Path:
    path = tmp_path / site / "cam" / "gate.mp4"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"the same clip")
    return path


def test_content_is_one_row_for_the_fleet_and_paths_are_each_nodes_own(postgres: PostgresServer,
                                                                       tmp_path: Path) -> None:
    url = postgres.database()
    a, b = open_as(url, "site-a", tmp_path), open_as(url, "site-b", tmp_path)
    pa, pb = clip(tmp_path, "a"), clip(tmp_path, "b")
    ra = a.register(pa, pa.stat(), str(pa.parent), "c" * 64, "video", "default")
    rb = b.register(pb, pb.stat(), str(pb.parent), "c" * 64, "video", "default")
    assert ra.id == rb.id  # the same content: one row, uploaded once
    assert a.paths_of(ra.id) == [bytes(pa)] and b.paths_of(rb.id) == [bytes(pb)]
    assert a.lookup_path(pb) is None and b.lookup_path(pb) is not None
    assert a.counts() == {("ready", "video"): 1} and b.counts() == {}  # counted where it was first seen
    a.set_daemon(summary="a's")
    assert b.daemon() == {} and a.daemon()["summary"][0] == "a's"
    a.close()
    b.close()


def test_a_claim_is_the_claiming_nodes_until_it_ends_or_the_node_is_gone(postgres: PostgresServer,
                                                                         tmp_path: Path) -> None:
    url = postgres.database()
    fleet = FleetDatabase(url, Secret(PASSWORD, "test")).open()
    for node in ("site-a", "site-b"):
        Registry(fleet, node).beat("queued 1", None, starting=True)
    a, b = open_as(url, "site-a", tmp_path), open_as(url, "site-b", tmp_path)
    pa = clip(tmp_path, "a")
    row = a.register(pa, pa.stat(), str(pa.parent), "d" * 64, "video", "default")
    a.claim(row.id, (State.READY, 0))
    with pytest.raises(ClaimLost, match="being uploaded by node site-a"):
        b.claim(row.id, (State.READY, 1))  # what b read after a's claim: a is alive, the claim holds
    a.transition(row.id, State.READY, next_attempt_at=None)  # a's attempt ended (a failure): claim given back
    b.claim(row.id, (State.READY, 1))
    a.transition(row.id, State.READY)  # (not a's claim: b's stays)
    with pytest.raises(ClaimLost):
        a.claim(row.id, (State.READY, 2))
    b.started(row.id)
    assert [r.id for r in b.files(state=State.UPLOADING)] == [row.id] and a.files(state=State.UPLOADING) == []
    Registry(fleet, "site-b").left()  # site-b stopped (or its last beat is old): its claim is free
    a2 = open_as(url, "site-a", tmp_path)
    a2.claim(row.id, (State.UPLOADING, 2))
    for ledger in (a, b, a2):
        ledger.close()
    fleet.close()


def test_a_node_role_with_only_the_listed_rights_runs_the_ledger(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.database()
    open_as(url, "owner", tmp_path).close()  # the owner creates the tables
    name = url.rsplit("/", 1)[1]
    postgres.sql("postgres", "CREATE ROLE mavi_barn LOGIN PASSWORD 'barn-pw-123'")
    postgres.sql(name, "GRANT SELECT, INSERT, UPDATE, DELETE ON files, paths, daemon, skipped, dir_marks, "
                       "duties, places, server_folders, ledger_schema TO mavi_barn")
    barn = open_as(url.replace("mavi_node@", "mavi_barn@"), "barn", tmp_path, password="barn-pw-123")
    path = clip(tmp_path, "barn")
    row = barn.register(path, path.stat(), str(path.parent), "e" * 64, "image", "default")
    barn.claim(row.id, (State.READY, 0))
    barn.started(row.id)
    barn.transition(row.id, State.CONFIRMED, remote_id="1")
    barn.set_mark(path.parent, 1, 1)
    barn.forget_path(path)
    assert barn.keep_server_folder("cam/2024-05", 7) == 7 and barn.server_folder("cam/2024-05") == 7
    assert barn.get_by_id(row.id).state is State.CONFIRMED  # type: ignore[union-attr]
    barn.close()


def test_a_server_folder_is_the_first_nodes_and_an_older_fleet_database_is_brought_up_to_date(
        postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.database()
    a, b = open_as(url, "site-a", tmp_path), open_as(url, "site-b", tmp_path)
    assert a.keep_server_folder("cam/2024-05", 101) == 101
    assert b.keep_server_folder("cam/2024-05", 202) == 101  # b made its own meanwhile: it uses a's
    assert b.server_folders() == {"cam/2024-05": 101}
    a.close()
    b.close()
    name = url.rsplit("/", 1)[1]  # as a mavi-sync from before server folders left it (schema 10)
    postgres.sql(name, "DROP TABLE server_folders; DROP INDEX files_remote; UPDATE ledger_schema SET version = 10")
    c = open_as(url, "site-c", tmp_path)
    assert c.schema_version() == len(MIGRATIONS) and c.server_folder("cam/2024-05") is None
    c.close()


def test_a_claim_of_a_node_whose_heartbeat_is_a_minute_old_is_free(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.database()
    fleet = FleetDatabase(url, Secret(PASSWORD, "test")).open()
    Registry(fleet, "site-a").beat("queued 1", None, starting=True)
    a, b = open_as(url, "site-a", tmp_path), open_as(url, "site-b", tmp_path)
    pa = clip(tmp_path, "a")
    row = a.register(pa, pa.stat(), str(pa.parent), "f" * 64, "video", "default")
    a.claim(row.id, (State.READY, 0))
    a.started(row.id)
    with pytest.raises(ClaimLost):
        b.claim(row.id, (State.UPLOADING, 1))  # site-a is alive: its upload is its own
    with fleet.transaction() as cur:  # site-a hangs: its heartbeat grows old
        cur.execute("UPDATE nodes SET seen_at = seen_at - 61 WHERE name = 'site-a'")
    b.claim(row.id, (State.UPLOADING, 1))
    for ledger in (a, b):
        ledger.close()
    fleet.close()


def test_a_fleet_database_of_schema_9_is_brought_up_to_date_and_each_node_sees_its_own_duties(
        postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.database()
    name = url.rsplit("/", 1)[1]
    open_as(url, "owner", tmp_path).close()
    postgres.sql(name, "DROP TABLE duties; DROP TABLE places; DROP TABLE server_folders; DROP INDEX files_remote; "
                       "UPDATE ledger_schema SET version = 9")  # as 9 left it
    a, b = open_as(url, "site-a", tmp_path), open_as(url, "site-b", tmp_path)
    assert a.schema_version() == len(MIGRATIONS)
    pa, pb = clip(tmp_path, "a"), clip(tmp_path, "b")
    row = a.register(pa, pa.stat(), str(pa.parent), "d" * 64, "video", "default")
    b.register(pb, pb.stat(), str(pb.parent), "d" * 64, "video", "default")
    a.transition(row.id, State.UPLOADING)
    a.transition(row.id, State.CONFIRMED, remote_id="VI1")
    assert a.unowed(str(pa.parent)) == [(bytes(pa), row.id)] and b.unowed(str(pa.parent)) == []
    assert a.owe(pa, row.id, "delete") and b.owe(pb, row.id, "archive")
    assert [d.path for d in a.duties(file_id=row.id)] == [bytes(pa)] and list(b.waiting(1e12)) == ["archive"]
    a.duty_done(bytes(pa), "deleted")
    assert a.place_of(row.id).how == "deleted" and b.place_of(row.id).how == "watched"  # type: ignore[union-attr]
    assert b.forget_folder(str(pb.parent)) == 0 and b.waiting(1e12) == {}  # sent: kept, but nothing owed
    for ledger in (a, b):
        ledger.close()
