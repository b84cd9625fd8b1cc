"""The image's HEALTHCHECK script (container/healthcheck.py), run here as the engine runs it:
a subprocess whose exit code is the verdict, against a real HTTP server on 127.0.0.1 that
stands in for the daemon's web page. No podman needed."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "container" / "healthcheck.py"


class Page(http.server.BaseHTTPRequestHandler):
    answer = 200
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the handler's name is http.server's)
        Page.paths.append(self.path)
        self.send_response(Page.answer if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page() -> Iterator[int]:
    Page.answer, Page.paths = 200, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def check(config: Path) -> subprocess.CompletedProcess[str]:
    # The venv's bin on PATH: the fallback calls `mavi-sync` as the image's PATH has it.
    env = {**os.environ, "MAVI_SYNC_CONFIG": str(config),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60, env=env)


def test_healthy_only_when_healthz_answers_200(page: int, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[web]\nlisten = "127.0.0.1:{page}"\n')
    assert check(config).returncode == 0
    Page.answer = 503
    done = check(config)
    assert done.returncode == 1 and "503" in done.stdout
    assert Page.paths == ["/healthz", "/healthz"]


def test_a_page_listening_on_every_interface_is_asked_on_loopback(page: int, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[web]\nlisten = "0.0.0.0:{page}"\n')
    done = check(config)
    assert done.returncode == 0 and f"http://127.0.0.1:{page}/healthz" in done.stdout


def test_no_answer_is_unhealthy(page: int, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[web]\nlisten = "127.0.0.1:{port}"\n')
    assert check(config).returncode == 1


def test_without_a_web_page_no_running_daemon_is_unhealthy(tmp_path: Path) -> None:
    # The fallback: `mavi-sync status` on a ledger no daemon beats in (healthy: tests/image/test_image.py).
    config = tmp_path / "config.toml"
    config.write_text(f'[ledger]\npath = "{tmp_path / "ledger.sqlite3"}"\n[[folders]]\npath = "{tmp_path}"\n')
    done = check(config)
    assert done.returncode == 1, done.stdout + done.stderr


def test_an_unreadable_config_is_unhealthy(tmp_path: Path) -> None:
    done = check(tmp_path / "absent.toml")
    assert done.returncode == 1 and "cannot read" in done.stdout
