"""The account's rate budget in a real PostgreSQL: nodes (each with its own pool and
connections, as separate boxes have) share one pace; a node that loses the database goes on
at its fair share and comes back; the password appears in no error."""

from __future__ import annotations

import threading
import time

import pytest

from mavi_sync.config.secrets import Secret
from mavi_sync.emulator.faults import Bucket
from mavi_sync.errors import FleetUnavailable
from mavi_sync.fleet.budget import FAIR_SHARE_S, RETRY_S, SharedLimiter
from mavi_sync.fleet.db import FleetDatabase
from mavi_sync.fleet.nodes import Registry, fleet_rows
from tests.pg import PASSWORD, PostgresServer


def node(url: str) -> FleetDatabase:
    return FleetDatabase(url, Secret(PASSWORD, "test")).open()


def test_three_nodes_share_one_pace(postgres: PostgresServer) -> None:
    url = postgres.database()
    rate, seconds = 20.0, 3.0  # the account's limit, per second
    dbs = [node(url) for _ in range(3)]
    limiters = [SharedLimiter(db, "upload", rate) for db in dbs]
    times: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def work(limiter: SharedLimiter) -> None:
        while not stop.is_set():
            if limiter.acquire(stop):
                with lock:
                    times.append(time.monotonic())

    threads = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(5)
    for db in dbs:
        db.close()
    inside = [t for t in times if t - started <= seconds]
    # Together at most the account's rate (plus the one slot a burst of 1 allows at once),
    # and at least 90 % of it: three boxes each pacing itself to the limit would take 3 ×.
    assert len(inside) <= rate * seconds + 1, len(inside)
    assert len(inside) >= 0.9 * rate * seconds, len(inside)
    per_node = [lim.waits for lim in limiters]
    assert all(n > 0 for n in per_node), per_node  # every node got slots


def test_a_node_that_loses_the_database_paces_itself_at_its_fair_share(postgres: PostgresServer) -> None:
    url = postgres.database()
    dbs = [node(url) for _ in range(2)]
    for i, db in enumerate(dbs):
        Registry(db, f"node-{i}").beat("queued 0", None, starting=True)
    limiter = SharedLimiter(dbs[0], "upload", 10.0)
    assert limiter.reserve() == 0.0 and limiter.shared  # the row, and the fair share: 2 nodes alive
    assert limiter.local.rate == 5.0
    dbs[0].close()  # the database is gone, as far as this node can tell
    started = time.monotonic()
    delays = [limiter.reserve() for _ in range(3)]
    assert time.monotonic() - started < 1.0, "waited on the lost database"
    assert not limiter.shared and delays[1:] == pytest.approx([0.2, 0.4], abs=0.05)  # 5 per second
    dbs[1].close()


def test_a_node_tries_the_database_again_after_retry_s_and_shares_again(postgres: PostgresServer) -> None:
    url = postgres.database()
    db = node(url)
    now = [1000.0]
    limiter = SharedLimiter(db, "upload", 10.0, clock=lambda: now[0])
    limiter.reserve()
    assert limiter.shared
    postgres.pause()  # the database goes away
    try:
        limiter.reserve()
        assert not limiter.shared
    finally:
        postgres.resume()
    now[0] += RETRY_S / 2
    limiter.reserve()
    assert not limiter.shared  # not asked again before RETRY_S
    now[0] += RETRY_S
    limiter.reserve()
    assert limiter.shared  # asked again, and back on the fleet's budget
    db.close()


def test_a_wrong_password_is_a_clear_error_without_the_password(postgres: PostgresServer) -> None:
    url = postgres.database()
    db = FleetDatabase(url, Secret("not-the-password-1234", "test")).open()
    with pytest.raises(FleetUnavailable) as info:
        db.ensure_schema()
    db.close()
    text = str(info.value)
    assert "password authentication failed" in text and "not-the-password-1234" not in text
    assert f"127.0.0.1:{postgres.port}/" in text


def test_the_registry_lists_every_node_with_its_summary(postgres: PostgresServer) -> None:
    url = postgres.database()
    db = node(url)
    Registry(db, "barn-1").beat("queued 3, uploading 1, done 10, failed 0", None, starting=True)
    Registry(db, "barn-2").beat("queued 0, uploading 0, done 4, failed 1", "no_credits", starting=True)
    rows = fleet_rows(db)
    db.close()
    assert [(r["node"], r["running"], r["paused"]) for r in rows] == [("barn-1", True, None),
                                                                      ("barn-2", True, "no_credits")]
    assert rows[0]["summary"].startswith("queued 3")


def test_a_node_role_needs_only_connect_and_rights_on_the_three_tables(postgres: PostgresServer) -> None:
    """docs/guides/fleet.md "Least privileges": the owner creates the tables once (its first node, or `mavi-sync
    status --fleet` run as the owner); a node's role then needs CONNECT and SELECT, INSERT,
    UPDATE on fleet_schema, rate_budget and nodes, nothing more."""
    url = postgres.database()
    owner = node(url)
    owner.ensure_schema()
    owner.close()
    name = url.rsplit("/", 1)[1]
    postgres.sql("postgres", "CREATE ROLE mavi_shop LOGIN PASSWORD 'shop-pw-123'")
    postgres.sql(name, "GRANT SELECT, INSERT, UPDATE ON fleet_schema, rate_budget, nodes TO mavi_shop")
    shop = FleetDatabase(url.replace("mavi_node@", "mavi_shop@"), Secret("shop-pw-123", "test")).open()
    Registry(shop, "shop").beat("queued 0", None, starting=True)
    limiter = SharedLimiter(shop, "upload", 5.0)
    assert limiter.reserve() == 0.0 and limiter.shared
    with pytest.raises(FleetUnavailable, match="permission denied"):
        with shop.transaction() as cur:
            cur.execute("CREATE TABLE intruder (x int)")
    shop.close()


def test_nodes_back_on_the_shared_budget_at_different_times_stay_under_the_accounts_limit(
        postgres: PostgresServer) -> None:
    """Issue 23: after the database came back, one node took the whole rate from the shared
    row while another still paced on its local share: the account saw 1.5 x its limit. Each
    send is judged as the emulator judges the account (its GCRA, burst 2): none is refused."""
    url = postgres.database()
    rate = 10.0
    dbs = [node(url) for _ in range(2)]
    for i, db in enumerate(dbs):
        Registry(db, f"node-{i}").beat("queued 9", None, starting=True)
    # The first node tries the database again every second, the second every RETRY_S, and
    # the database comes back just after the second's try failed: they return seconds apart,
    # as nodes whose last failed tries fell differently do.
    limiters = [SharedLimiter(dbs[0], "upload", rate, retry_s=1.0), SharedLimiter(dbs[1], "upload", rate)]
    times: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def work(limiter: SharedLimiter) -> None:
        while not stop.is_set():
            if limiter.acquire(stop):
                with lock:
                    times.append(time.monotonic())

    threads = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        postgres.pause()
        try:
            deadline = time.monotonic() + 10
            while any(lim.shared for lim in limiters) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(lim.shared for lim in limiters)  # both pace locally now
            time.sleep(1.0)
            while limiters[1].next_try_s < RETRY_S - 1.5 and time.monotonic() < deadline + RETRY_S:
                time.sleep(0.01)
        finally:
            postgres.resume()
        back = time.monotonic()
        deadline = back + 3 * RETRY_S
        while not all(lim.shared for lim in limiters) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(lim.shared for lim in limiters)
        time.sleep(2.0)  # both shared again
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        for db in dbs:
            db.close()
    account = Bucket(clock=iter(sorted(times)).__next__)
    refused = [t for t in sorted(times) if not account.allow(rate, 2)]
    assert not refused, f"{len(refused)} of {len(times)} sends over the account's limit"
    assert len(times) >= 0.8 * rate * 1.0  # (and the nodes did send meanwhile)


def test_the_fair_share_is_counted_again_as_nodes_join(postgres: PostgresServer) -> None:
    """A node that started first counted only itself: losing the database, it would have paced
    at the whole account's rate beside the others' shares."""
    url = postgres.database()
    dbs = [node(url) for _ in range(2)]
    Registry(dbs[0], "first").beat("queued 0", None, starting=True)
    now = [1000.0]
    limiter = SharedLimiter(dbs[0], "upload", 10.0, clock=lambda: now[0])
    limiter.reserve()
    assert limiter.local.rate == 10.0  # alone
    Registry(dbs[1], "second").beat("queued 0", None, starting=True)
    now[0] += FAIR_SHARE_S / 2
    limiter.reserve()
    assert limiter.local.rate == 10.0  # not counted again yet
    now[0] += FAIR_SHARE_S / 2
    limiter.reserve()
    assert limiter.local.rate == 5.0
    for db in dbs:
        db.close()
