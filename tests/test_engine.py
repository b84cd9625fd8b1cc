"""The engine's intake and workers, against the emulator with a real ledger and real files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
from mavi_sync.engine import Engine
from mavi_sync.ledger import Ledger
from mavi_sync.samples import ImageSpec, write_image
from mavi_sync.scanner import RACY_S
from mavi_sync.states import State
from tests.conftest import API_KEY, SECURITY_KEY, api_table, fast_uploads


def test_a_file_is_never_in_two_workers_at_once(emulator, admin, tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    cam.mkdir()
    old = time.time() - 3600
    for i in range(4):
        image = write_image(cam / f"i{i}.jpg", ImageSpec(taken="2024:01:01 10:00:00", color=(40 + 60 * i, 9, 9)))
        (cam / f"copy{i}.jpg").write_bytes(image.read_bytes())  # the same content under a second name
    for path in cam.iterdir():
        os.utime(path, (old, old))
    config = build_config({"api": api_table(emulator.url), "uploads": fast_uploads(concurrency=2, image_batch_files=1),
                           "folders": [{"path": str(cam)}]})
    admin.faults(latency_s=0.6)  # uploads in flight while the scheduler looks for READY rows
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    engine = Engine(config, ledger, client)
    engine.walk()
    engine.start(2)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(n for (s, _t), n in ledger.counts().items() if s == "confirmed") < 4:
            engine.settle_tick()
            # The same paths asked for again and again, as the startup walk, the resume of
            # unfinished rows, inotify events and the scheduler's READY scan all may do.
            engine.schedule_due()
            for path in sorted(cam.iterdir()):
                engine.enqueue(path)
            time.sleep(0.02)
    finally:
        engine.stop.set()
        engine.drain(5)
        client.close()
    assert [r.state for r in ledger.files()] == [State.CONFIRMED] * 4
    assert len(admin.uploads("image")) == 4  # each content sent once, whatever its names and how often asked
    assert [r.attempts for r in ledger.files()] == [1] * 4
    ledger.close()


def test_a_restart_walk_trusts_a_directory_mark_only_while_nothing_in_it_changed(emulator, tmp_path: Path) -> None:
    """Known, unchanged files are not considered again, whether their directory is checked
    row by row (first walk) or by its mark (later walks); and a mark hides no change."""
    cam = tmp_path / "cam"
    (cam / "2024").mkdir(parents=True)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for path in [cam / f"top{i}.mp4" for i in range(3)] + [cam / "2024" / f"clip{i}.mp4" for i in range(3)]:
        path.write_bytes(b"v" * 64)
        ledger.record_path(path, "d" * 64, path.stat(), str(cam))  # as if uploaded by an earlier run
    config = build_config({"api": api_table(emulator.url), "folders": [{"path": str(cam)}]})
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    engine = Engine(config, ledger, client)
    try:
        time.sleep(RACY_S + 0.1)  # directories changed just now get no mark
        assert engine.walk() == 6 and len(engine.settler) == 0
        assert ledger.mark_of(cam) is not None and ledger.mark_of(cam / "2024") is not None
        assert engine.walk() == 6 and len(engine.settler) == 0  # by the marks this time
        (cam / "2024" / "clip0.mp4").write_bytes(b"w" * 64)  # rewritten in place, same size
        (cam / "top1.mp4").rename(cam / "renamed.mp4")  # same stat, new name
        engine.walk()
        assert sorted(p.name for p in engine.settler.pending) == ["clip0.mp4", "renamed.mp4"]
    finally:
        engine.drain(1)
        client.close()
        ledger.close()


def test_a_full_walk_drops_the_marks_of_directories_that_are_gone_but_not_of_unseen_ones(emulator,
                                                                                        tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    days = [cam / "2024-01-01", cam / "2024-01-02"]
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for day in days:
        day.mkdir(parents=True)
        clip = day / "clip.mp4"
        clip.write_bytes(b"v" * 64)
        ledger.record_path(clip, "d" * 64, clip.stat(), str(cam))
    config = build_config({"api": api_table(emulator.url), "folders": [{"path": str(cam)}]})
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    engine = Engine(config, ledger, client)
    try:
        time.sleep(RACY_S + 0.1)  # directories changed just now get no mark
        engine.walk()
        assert all(ledger.mark_of(day) is not None for day in days)
        engine._walk_dir(config.folders[0], days[0])  # a walk of one directory prunes nothing
        assert ledger.mark_of(days[1]) is not None
        (days[1] / "clip.mp4").unlink()
        days[1].rmdir()  # the NVR rotated the oldest day out
        engine.walk()
        assert ledger.mark_of(days[1]) is None and ledger.mark_of(days[0]) is not None
        cam.rename(tmp_path / "unmounted")  # the whole folder unseen: nothing is pruned
        engine.walk()
        assert ledger.mark_of(days[0]) is not None
    finally:
        engine.drain(1)
        client.close()
        ledger.close()


def test_the_probe_helpers_idle_time_comes_from_the_config_and_follows_a_reload(emulator, tmp_path: Path) -> None:
    def config(idle: float):
        return build_config({"api": api_table(emulator.url), "uploads": {"probe_idle_s": idle},
                             "folders": [{"path": str(tmp_path)}]})
    first = config(120)
    client = Client.from_config(first, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        engine = Engine(first, ledger, client)
        assert "--idle=120" in engine.probe.command()
        engine.reconfigure(config(0.5))
        assert "--idle=0.5" in engine.probe.command() and engine.config.uploads.probe_idle_s == 0.5
