"""The listener (web/server.py) in this process, on real sockets: a port in use is said and
tried again until it is free, a page beyond loopback without its password never listens,
and a stop leaves no thread behind (the guard in tests/conftest.py fails a test that does)."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import structlog

from mavi_sync.config.schema import WebConfig
from mavi_sync.web.server import WebServer
from tests.web.conftest import Rig


def server_for(rig: Rig, tmp: Path, listen: str, **password: Any) -> WebServer:
    web = WebConfig(listen, dataclasses.replace(WebConfig().password, **password)) if password else WebConfig(listen)
    config = dataclasses.replace(rig.config, web=web, ledger=dataclasses.replace(rig.config.ledger,
                                                                                   path=tmp / "ledger.sqlite3"))
    return WebServer(config, rig.board.sources, retry_s=0.1)


def get(address: tuple[str, int], path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{address[1]}{path}", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_port_in_use_is_said_and_taken_once_it_is_free(rig: Rig, tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    server = server_for(rig, tmp_path, f"127.0.0.1:{port}")
    with structlog.testing.capture_logs() as logs:
        server.start()
        assert server.address is None
        [said] = [e for e in logs if e["event"] == "web_unavailable"]
        assert said["key"] == "web.listen" and said["value"] == f"127.0.0.1:{port}" and "in use" in said["error"]
        taken.close()
        deadline = time.monotonic() + 5
        while server.address is None and time.monotonic() < deadline:
            time.sleep(0.05)
    try:
        assert server.address == ("127.0.0.1", port)
        assert get(server.address, "/healthz")[0] == 503  # no heartbeat here: stalled, and it says so
    finally:
        server.stop()


def test_beyond_loopback_without_a_password_nothing_listens(rig: Rig, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAVI_WEB_PASSWORD", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    server = server_for(rig, tmp_path, "0.0.0.0:0")
    with structlog.testing.capture_logs() as logs:
        server.start()
    server.stop()
    [said] = [e for e in logs if e["event"] == "web_refused"]
    assert server.address is None and said["key"] == "web.password" and "needs a password" in said["error"]
    assert "MAVI_WEB_PASSWORD" in said["error"] and "uploads go on" in said["hint"]


def test_a_password_from_a_file_opens_the_page_beyond_loopback(rig: Rig, tmp_path: Path) -> None:
    secret = tmp_path / "web-password"
    secret.write_text("s3cret\n")
    server = server_for(rig, tmp_path, "0.0.0.0:0", env="", credential="", file=secret)
    server.start()
    try:
        assert server.address is not None
        assert get(server.address, "/api/v1/status")[0] == 401
        head = urllib.request.Request(f"http://127.0.0.1:{server.address[1]}/healthz", method="HEAD")
        with pytest.raises(urllib.error.HTTPError) as stalled:  # a monitor's HEAD: the status, no body
            urllib.request.urlopen(head, timeout=5)
        assert stalled.value.code == 503 and stalled.value.read() == b""
        request = urllib.request.Request(f"http://127.0.0.1:{server.address[1]}/api/v1/status",
                                         headers={"Authorization": "Basic " + "eDpzM2NyZXQ="})  # x:s3cret
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.stop()


def test_on_loopback_a_password_named_but_missing_never_leaves_the_page_open(rig: Rig, tmp_path: Path) -> None:
    server = server_for(rig, tmp_path, "127.0.0.1:0", file=tmp_path / "not-there")
    with structlog.testing.capture_logs() as logs:
        server.start()
    server.stop()
    [said] = [e for e in logs if e["event"] == "web_refused"]
    assert server.address is None and "cannot be read" in said["error"] and "not-there" in said["error"]


def test_on_loopback_a_password_found_is_asked_for(rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAVI_WEB_PASSWORD", "s3cret")
    server = server_for(rig, tmp_path, "127.0.0.1:0")
    server.start()
    try:
        assert server.address is not None and get(server.address, "/api/v1/status")[0] == 401
    finally:
        server.stop()
