"""The API key never appears in an error, a log line or a repr, whatever goes wrong.

The emulator here accepts a key that is *not* shaped like sk-mavi-…, so the log
scrubber cannot hide a leak: the key must simply never be written.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.errors import MaviSyncError
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.logs import configure
from mavi_sync.pipeline.plan import job_for, plan_file
from mavi_sync.dev.samples import VideoSpec, write_video
from tests.conftest import api_table, fast_uploads

UNSHAPED_KEY = "PLAINKEY-4f1d9c2a7b"


def test_no_failure_path_writes_the_key(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure("debug", json=True, stream=stream)
    errors: list[str] = []
    try:
        with EmulatorServer(tmp_path / "e", Settings(api_key=UNSHAPED_KEY, security_key=UNSHAPED_KEY)) as server:
            admin = Admin(server.url)
            folder = tmp_path / "cam"
            config = build_config({"api": api_table(server.url), "uploads": fast_uploads(read_timeout_s=0.5),
                                   "folders": [{"path": str(folder)}]})
            client = Client.from_config(config, keys=KeyRing.of(Secret(UNSHAPED_KEY, "t"), Secret(UNSHAPED_KEY, "t")))
            path = write_video(folder / "a.mp4", VideoSpec())
            job = job_for(plan_file(path, config.folders[0], sha256=sha256_file(path)), os.stat(path))
            for faults, rule in [({"error_rate": 1.0}, None), ({"bad_key": True}, None), ({"no_credits": True}, None),
                                 ({}, {"path": "/serve/api/v1/upload", "action": "hang"}),
                                 ({}, {"path": "/serve/api/v1/upload", "action": "drop"})]:
                admin.reset()
                if faults:
                    admin.faults(**faults)
                if rule:
                    admin.script(rule)
                try:
                    client.upload(job)
                except MaviSyncError as exc:
                    errors += [str(exc), repr(exc), exc.hint, repr(exc.__dict__)]
            errors += [repr(client.keys), repr(client.__dict__), repr(client.transport.__dict__),
                       repr(client.transport.session.__dict__)]
            client.close()
            admin_view = repr(admin.stats()) + repr(admin.uploads())
    finally:
        configure("warning", stream=io.StringIO())
        logging.getLogger().handlers.clear()
    assert "request_retrying" in stream.getvalue()  # the log saw the failures
    assert len(errors) > 10
    for text in [stream.getvalue(), admin_view, *errors]:
        assert UNSHAPED_KEY not in text
