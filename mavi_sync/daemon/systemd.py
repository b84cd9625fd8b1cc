"""The systemd notify protocol (READY=1, STATUS=, WATCHDOG=1, STOPPING=1).

Hand-written on purpose: it is one datagram to $NOTIFY_SOCKET. The `sdnotify` package
leaks its socket when the variable is unset and swallows every error, and
systemd-python needs libsystemd's headers to build on a small box.
"""

from __future__ import annotations

import os
import socket
from typing import Mapping, Optional


class Notifier:
    """Sends notifications when run by systemd with Type=notify; does nothing otherwise."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        # systemd names the process the watchdog is meant for; a child that inherited the
        # variables (or a test run under a supervised shell) must not ping on its behalf.
        pid = env.get("WATCHDOG_PID", "")
        ours = not pid.isdigit() or int(pid) == os.getpid()
        self.watchdog_s: Optional[float] = int(usec) / 1e6 if usec.isdigit() and ours else None

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def send(self, *lines: str) -> bool:
        """Send `lines` as one message; False when not under systemd, the socket is gone, or
        its queue is full (the message is dropped rather than waited for)."""
        if not self._address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Never block the main loop: a reader that stopped reading (a full socket
                # queue) would otherwise freeze the daemon until the watchdog kills it.
                sock.setblocking(False)
                sock.sendto("\n".join(lines).encode("utf-8", "replace"), self._address)
            return True
        except OSError:
            return False

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def stopping(self, status: str = "stopping") -> None:
        self.send("STOPPING=1", f"STATUS={status}")
