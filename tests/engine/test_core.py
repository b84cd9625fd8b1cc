"""The engine's workers, against the emulator with a real ledger and real files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
from mavi_sync.daemon.wiring import assemble
from mavi_sync.engine.core import Engine
from mavi_sync.ledger.store import Ledger
from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.ledger.states import State
from tests.conftest import API_KEY, SECURITY_KEY, api_table, fast_uploads


def test_a_file_is_never_in_two_workers_at_once(emulator, admin, tmp_path: Path, opener) -> None:  # type: ignore[no-untyped-def]
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
    ledger = opener()
    parts = assemble(config, ledger, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    engine, client = parts.engine, parts.client
    parts.intake.walk()
    engine.start(2)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(n for (s, _t), n in ledger.counts().items() if s == "confirmed") < 4:
            parts.intake.settle_tick()
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


def test_the_probe_helpers_idle_time_comes_from_the_config_and_follows_a_reload(emulator, tmp_path: Path) -> None:
    def config(idle: float):
        return build_config({"api": api_table(emulator.url), "uploads": {"probe_idle_s": idle},
                             "folders": [{"path": str(tmp_path)}]})
    first = config(120)
    client = Client.from_config(first, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        engine = Engine(first, ledger, client, stop=client.stop)
        assert "--idle=120" in engine.probe.command()
        engine.reconfigure(config(0.5))
        assert "--idle=0.5" in engine.probe.command() and engine.config.uploads.probe_idle_s == 0.5


def test_a_transcode_runs_in_a_niced_helper_of_its_own_and_its_progress_is_in_the_status_line(
        emulator, tmp_path: Path) -> None:
    config = build_config({"api": api_table(emulator.url), "folders": [{"path": str(tmp_path), "transcode": True}]})
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        engine = Engine(config, ledger, client, stop=client.stop)
        assert engine.transcoder is not None and engine.transcoder is not engine.probe
        assert "--nice=10" in engine.transcoder.command() and "--nice" not in " ".join(engine.probe.command())
        assert "transcoding" not in engine.summary()
        engine.staging.root.mkdir(parents=True)
        (engine.staging.root / f"{'a' * 64}.mp4.progress").write_text('{"done_s": 60, "total_s": 240}')
        assert engine.summary().endswith("; transcoding: 25% of 4 min")
    client.close()


def test_a_retry_that_is_due_goes_back_through_settling_not_straight_to_a_worker(emulator, tmp_path: Path,
                                                                                opener) -> None:  # type: ignore[no-untyped-def]
    """docs/design/daemon.md, "Settling": everything that reaches a worker has settled, retries included."""
    cam = tmp_path / "cam"
    cam.mkdir()
    photo = write_image(cam / "a.jpg", ImageSpec())
    config = build_config({"api": api_table(emulator.url), "folders": [{"path": str(cam)}]})
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    with opener() as ledger:
        row = ledger.register(photo, photo.stat(), str(cam), "e" * 64, "image", "default")
        ledger.transition(row.id, State.READY, next_attempt_at=time.time() - 1)
        engine = Engine(config, ledger, client, stop=client.stop)
        settled: list[Path] = []
        engine.resettle = lambda path, hold: settled.append(path)
        engine.schedule_due()
        assert settled == [photo] and engine.queue.qsize() == 0
    client.close()


def test_a_path_whose_folder_left_the_config_is_forgotten_not_retried_every_second(emulator, tmp_path: Path,
                                                                                   opener) -> None:  # type: ignore[no-untyped-def]
    old, kept = tmp_path / "old", tmp_path / "kept"
    old.mkdir()
    kept.mkdir()
    photo = write_image(old / "a.jpg", ImageSpec())
    config = build_config({"api": api_table(emulator.url), "folders": [{"path": str(kept)}]})  # "old" was removed
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    with opener() as ledger:
        ledger.register(photo, photo.stat(), str(old), "f" * 64, "image", "default")
        engine = Engine(config, ledger, client, stop=client.stop)
        assert engine.process(photo) is None
        assert ledger.lookup_path(photo) is None and ledger.due(State.READY, time.time()) == []
        assert photo.exists()  # the file itself is never touched
    client.close()
