"""The systemd notify protocol, received on a real datagram socket."""

from __future__ import annotations

import socket
from pathlib import Path

from mavi_sync.daemon.systemd import Notifier


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


def test_a_reader_that_stopped_reading_never_blocks_the_daemon(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)  # bound, never read: the queue fills up (the kernel's default is ~10 datagrams)
        notifier = Notifier({"NOTIFY_SOCKET": path})
        sent = [notifier.send("STATUS=" + "x" * 200) for _ in range(2000)]  # a blocking send would hang here
        assert sent[0] is True and sent[-1] is False


def test_the_watchdog_belongs_to_the_pid_systemd_names(tmp_path: Path) -> None:
    import os
    env = {"NOTIFY_SOCKET": str(tmp_path / "n"), "WATCHDOG_USEC": "20000000"}
    assert Notifier({**env, "WATCHDOG_PID": str(os.getpid())}).watchdog_s == 20.0
    assert Notifier({**env, "WATCHDOG_PID": "1"}).watchdog_s is None  # inherited by a child: not ours
