"""Images ready together with identical fields share a request (docs/design/api.md, "Image batching"):
a backlog of photos with the same fields goes up in a few requests, each file with its own
id and ledger row; photos whose fields differ go in requests of their own."""

from __future__ import annotations

import os
import signal
import time

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import until

SAME = dict(make="Canon", model="EOS R6", taken="2024:05:01 10:00:00", offset="+02:00")


def test_a_backlog_of_photos_with_identical_fields_shares_requests(spawn, emulator, admin: Admin) -> None:
    d = spawn(emulator.url, uploads="concurrency = 2\nimage_batch_files = 10\n")
    for i in range(24):  # same fields, different pictures
        write_image(d.camera / f"IMG_{i:04d}.jpg", ImageSpec(**SAME, color=(i * 10, 80, 120)))
    for i in range(3):  # each with its own time: fields differ
        write_image(d.camera / f"OTHER_{i}.jpg", ImageSpec(make="Nikon", taken=f"2024:05:0{i + 2} 09:00:00"))
    d.start()
    until(lambda: d.count("confirmed") == 27, 60)
    requests = admin.stats()["requests"].get("/serve/api/v1/upload_img", 0)
    # 24 in requests of at most 10 (one short one per worker at the end), the 3 others alone:
    # 7 here, against 27 one by one
    assert 3 + 3 <= requests <= 3 + 3 + 2, requests
    ids = {r["remote_id"] for r in d.ledger_rows("--state", "confirmed")}
    assert len(ids) == 27  # each file its own id
    assert d.events("upload_crashed") == []
    assert d.stop() == 0


def test_batching_off_sends_each_photo_alone(spawn, emulator, admin: Admin) -> None:
    d = spawn(emulator.url, uploads="image_batch_files = 1\n")
    for i in range(4):
        write_image(d.camera / f"IMG_{i:04d}.jpg", ImageSpec(**SAME, color=(i * 10, 80, 120)))
    d.start()
    until(lambda: d.count("confirmed") == 4, 30)
    assert admin.stats()["requests"].get("/serve/api/v1/upload_img", 0) == 4
    assert d.stop() == 0


def test_each_answer_is_recorded_when_it_arrives_and_a_kill_sends_no_photo_twice(spawn, emulator,
                                                                                admin: Admin) -> None:
    """Issue 23: a batch's outcomes were recorded only after the last request of its group,
    here the clip the worker took on the way; a `kill -9` meanwhile left photos the server
    held saying `uploading`, and the restart sent them again. Now each answer is recorded as
    it arrives: the photos are confirmed while the clip is still on its way, and the kill
    costs nothing twice."""
    d = spawn(emulator.url, uploads="concurrency = 1\nimage_batch_files = 10\n")
    old = time.time() - 3600  # a backlog: queued together, photos first (by name), the clip behind them
    for i in range(3):
        photo = write_image(d.camera / f"IMG_{i:04d}.jpg", ImageSpec(**SAME, color=(i * 10, 80, 120)))
        os.utime(photo, (old, old))
    clip = write_video(d.camera / "ZZ_clip.mp4", VideoSpec(seconds=1))
    os.utime(clip, (old, old))
    admin.script({"path": "/serve/api/v1/upload_img", "action": "latency", "value": 0.0, "count": 1},
                 {"path": "/serve/api/v1/upload", "action": "latency", "value": 60.0, "count": 1})  # the clip hangs
    d.start()
    until(lambda: len(admin.uploads("image")) == 3, 30)
    until(lambda: d.count("confirmed") == 3, 10)  # recorded while the clip is still on its way
    assert len(admin.uploads("video")) == 0
    assert d.stop(signal.SIGKILL) == -signal.SIGKILL
    d.start()
    until(lambda: d.count("confirmed") == 4, 60)
    shas = [u["sha256"] for u in admin.uploads()]
    assert len(shas) == len(set(shas)) == 4, shas  # no photo (nor the clip) twice
    assert admin.stats()["requests"]["/serve/api/v1/upload_img"] == 1
    assert d.stop() == 0
