"""A day in the life (issue 23): one daemon, every feature on at once, against the emulator
over real HTTP. An NVR's security clips with caption sidecars, archived; its video clips,
deleted; a phone's HEIC photos, a Live Photo, a motion photo, copies and renames; a v2 asset
folder; files written the way cameras, recorders and sync tools write them
(mavi_sync/dev/writers.py); real camera files where the corpus is there. Meanwhile the
owner's key has a typo and is corrected, the API goes away and comes back, then answers 5xx
for a while (an SD card's folder is added and taken out again meanwhile, a file fails for
good and is retried by hand), the upload window closes and opens, the owner pauses by hand,
a reload changes the cap, the daemon is killed with SIGKILL and started again, the ledger's
disk fills for a while, and two cameras' archives cannot be written for a while.

Then the same day on a two-node fleet: both nodes' nights and writers, a clip arriving at
both sites, the PostgreSQL database stopped while claims wait for the account's shared rate,
a node killed with SIGKILL and started again (the soak adds the key, outage and window
hours on one node).

At the end: every valid file confirmed exactly once and byte for byte at the emulator, every
invalid one refused with its reason, every after-upload action done (sidecars followed their
clips), no pause left, no ledger row without a place, log lines per file bounded, and
`status`, `ledger`, `captions` and the metrics agreeing with what the emulator holds. Each
broken promise is named; all of them are listed at once.

Small in `make test` (a minute or two per day); MAVI_SOAK=full (`make soak`) repeats the
days for about an hour (MAVI_SOAK_MINUTES) and prints the figures.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.day import FULL, Box
from tests.e2e.dusk import BOX_S, finish, settle_day
from tests.e2e.evening import Site, evening
from tests.e2e.hours import Day, Emulator, free_port
from tests.e2e.promises import Promises
from tests.e2e.rig import Daemon


def test_a_day_in_the_life_of_one_box(tmp_path: Path) -> None:
    p, emulator, started = Promises(), Emulator(tmp_path), time.monotonic()
    box = Box(tmp_path / "box", free_port())
    d = Daemon(box.root, emulator.url)  # (its config is the day's: Day writes it)
    day = Day(box, d, emulator, p)
    rounds = 0
    try:
        while True:
            r = rounds
            door, yard = box.block(f"door{r:02d}"), box.block(f"yard{r:02d}")
            with p.timed("morning"):
                box.night(r)
                day.start()
                assert not box.writers(r)
            for hour, *args in (("idle", door.name, yard.name), ("wrong_key",), ("outage",), ("server_errors",), ("window", yard),
                                ("by_hand", door), ("disk_full",)):
                day.hour(hour, r, *args)
            with p.timed("settle"):
                settle_day(day, p)
            rounds += 1
            if not FULL or time.monotonic() - started > BOX_S:
                break
            p.check(d.stop() == 0, "the daemon stops cleanly in the evening")
        with p.timed("evening"):
            evening([Site(box, d)], emulator.admin, p)
        p.check(d.stop() == 0, "the daemon stops cleanly at the end of the day")
    finally:
        d.close()
        emulator.close()
    finish(p, "day: one box", rounds, box.notes, started)
