"""The systemd notify protocol, received on a real datagram socket."""

from __future__ import annotations

import socket
from pathlib import Path

from mavi_sync.notify import Notifier


def test_messages_reach_the_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
        assert notifier.enabled and notifier.watchdog_s == 30.0
        notifier.ready("queued 0")
        notifier.watchdog()
        notifier.stopping()
        assert [sock.recv(100).decode() for _ in range(3)] == ["READY=1\nSTATUS=queued 0", "WATCHDOG=1",
                                                              "STOPPING=1\nSTATUS=stopping"]


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert Notifier({}).send("READY=1") is False
    assert Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).send("READY=1") is False
