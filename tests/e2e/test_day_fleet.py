"""The same day on a two-node fleet whose PostgreSQL stops for a while (tests/e2e/test_day.py
holds the one box's day; a module of its own so that `make test`'s two workers run the days
side by side)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.e2e.day import FULL, Box
from tests.e2e.dusk import FLEET_S, PER_MINUTE, finish, settle_day
from tests.e2e.evening import Site, evening
from tests.e2e.hours import Day, Emulator, free_port, scale
from tests.e2e.promises import Promises
from tests.e2e.rig import Daemon, until
from tests.pg import PASSWORD, PostgresServer, unavailable


def test_the_same_day_on_a_two_node_fleet_whose_database_stops(tmp_path: Path) -> None:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    p, emulator, started = Promises(), Emulator(tmp_path), time.monotonic()
    emulator.admin.faults(rate_limit_per_minute=PER_MINUTE)  # one account: the nodes share its rate
    server = PostgresServer().start()
    days: list[Day] = []
    rounds = 0
    try:
        database = server.database()
        for n in range(2):
            box = Box(tmp_path / f"node{n}", free_port(), seed=n,
                      fleet=f'[fleet]\ndatabase = "{database}"\nnode = "site-{n}"\n')
            days.append(Day(box, Daemon(box.root, emulator.url), emulator, p, env={"MAVI_FLEET_PASSWORD": PASSWORD},
                            rate_per_minute=PER_MINUTE))
        while True:
            fleet_day(days, server, rounds)
            rounds += 1
            if not FULL or time.monotonic() - started > FLEET_S:
                break
            for day in days:
                p.check(day.d.stop() == 0, "a node stops cleanly in the evening")
        with p.timed("evening"):
            evening([Site(day.box, day.d) for day in days], emulator.admin, p)
        for day in days:
            hints = [e.get("hint") or "" for e in day.d.events("ledger_unwritable")]
            p.check(all("database" in h.lower() for h in hints), "a lost fleet database is told as such, with what "
                    "to do", hints[:1])
            noisy = day.d.logs().count("error connecting")
            p.check(noisy <= rounds, "a lost database is logged once per node, not at every connection attempt",
                    f"{day.box.root.name}: {noisy} 'error connecting' lines over {rounds} outage(s)")
        answers = emulator.admin.stats()["answers"]
        over = sum(n for answer, n in answers.items() if "0429" in answer or answer.startswith("429"))
        p.check(over == 0, "the fleet keeps to the account's rate, also after its database comes back", answers)
        for day in days:
            p.check(day.d.stop() == 0, "a node stops cleanly at the end of the day")
    finally:
        for day in days:
            day.d.close()
        server.stop()
        emulator.close()
    finish(p, "day: two-node fleet", rounds, [n for day in days for n in day.box.notes], started)


def fleet_day(days: list[Day], server: PostgresServer, r: int) -> None:
    """The fleet's day: both nodes' nights and writers, a clip arriving at both sites, the
    database stopped while claims wait for their rate slots, a node killed and started again."""
    p = days[0].p
    with p.timed("morning"):
        doors = [day.box.block(f"door{r:02d}") for day in days]
        yard = days[0].box.block(f"yard{r:02d}") if FULL else None
        for day in days:
            day.box.night(r)
            day.start()
        errors: list[BaseException] = []
        writers = [threading.Thread(target=lambda b=day.box: errors.extend(b.writers(r))) for day in days]
        for t in writers:
            t.start()
        for t in writers:
            t.join(180)
        assert not errors, errors
        shared = days[0].box.video_bytes()
        first = days[0].box.put("assets", f"shared_{r:02d}.mp4", shared, "asset")
        days[1].box.put("assets", f"shared_{r:02d}.mp4", shared, "asset", copy_of=first)  # one upload for the fleet
        for day in days:
            day.quiet(90)
    if FULL:  # (the soak: the box's hours on a node too; its other node sees the outage as well)
        for hour, *args in (("wrong_key",), ("outage",), ("window", yard)):
            days[0].hour(hour, r, *args)
    with p.timed("database_down"):
        before = len(days[0].admin.uploads())
        for day in days:
            for i in range(8):  # (each its own time: one request each)
                day.box.photo("phone", f"IMG_{r:02d}f{i}.jpg", make="Google", model="Pixel 8")
        until(lambda: len(days[0].admin.uploads()) > before, 30, 0.05)  # claims are being made: the database goes
        server.pause()
        for day in days:
            day.box.clip("vid", f"2024-05-05/{r:02d}_db.mp4")
        until(lambda: all(day.d.events("ledger_unwritable") for day in days), 60, 0.5)
        time.sleep(scale(3, 60))
        server.resume()
        for day in days:
            until(lambda: day.d.events("ledger_writable_again"), 60, 0.5)
    with p.timed("kill"):
        killed = days[1]
        assert killed.d.stop(9) == -9
        doors[1].unlink()  # the archive is back while the node is down
        killed.start()
        p.within(15, lambda: killed.archived(doors[1].name), "after-upload duties are re-applied at start",
                 lambda: f"{doors[1].name}: still in the watched folder")
        doors[0].unlink()  # and while the other node runs
    with p.timed("settle"):
        for day in days:
            settle_day(day, p)
