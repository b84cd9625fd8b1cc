"""Delivery never holds up the caller: a service that never answers, a full queue, a URL
Apprise cannot read; secrets are scrubbed; only the service's name is logged."""

from __future__ import annotations

import io
import socket
import time
from contextlib import contextmanager
from typing import Iterator

from mavi_sync.owner.alerts import Notice
from mavi_sync.config.secrets import Secret
from mavi_sync.owner.courier import QUEUE_SIZE, Courier, Target, fail_url, notify_url_problem
from tests.e2e.inbox import Inbox
from tests.e2e.rig import until


@contextmanager
def log_lines(level: str = "info") -> Iterator[io.StringIO]:
    from mavi_sync.logs import configure
    stream = io.StringIO()
    configure(level, json=True, stream=stream)
    try:
        yield stream
    finally:
        configure("warning", stream=io.StringIO())


def target(url: str, number: int = 1) -> Target:
    return Target(number, Secret(url, "test"), ("account",))


def test_a_service_that_never_answers_holds_up_nothing() -> None:
    with log_lines() as out, socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(200)
        courier = Courier([target(f"json://127.0.0.1:{silent.getsockname()[1]}/x?rto=1&cto=1")]).start()
        started = time.monotonic()
        for _ in range(QUEUE_SIZE + 20):  # more than the queue holds: the rest are dropped
            courier.send(Notice("account", "t", "b"))
        assert time.monotonic() - started < 0.5
        silent.close()
        courier.stop(timeout=60)  # the socket closed: the rest are refused at once
    assert '"event": "notification_dropped"' in out.getvalue()


def test_delivered_texts_lose_every_secret_and_the_log_names_only_the_service() -> None:
    with log_lines("debug") as out, Inbox() as inbox:
        url = f"json://127.0.0.1:{inbox.port}/hook/SECRET-PATH"
        courier = Courier([target(url)], secrets=lambda: ["KEY-1", url]).start()
        courier.send(Notice("account", "key KEY-1 refused", f"see {url} and KEY-1"))
        courier.send(Notice("digest", "not wanted by this target", "x"))
        until(lambda: inbox.notices("/hook/SECRET-PATH"), 10)
        courier.stop()
    [notice] = inbox.notices("/hook/SECRET-PATH")
    assert notice["title"] == "key *** refused" and notice["message"] == "see *** and ***"
    assert '"service": "json"' in out.getvalue() and "SECRET-PATH" not in out.getvalue()


def test_a_url_apprise_cannot_read_is_named_by_its_service_only() -> None:
    assert notify_url_problem("nosuchservice://token@host/x") == \
        "Apprise does not read this nosuchservice:// URL (see its wiki for the format)"
    assert notify_url_problem("json://127.0.0.1:9/x") is None


def test_the_fail_signal_is_the_ping_path_plus_fail() -> None:
    assert fail_url("https://hc-ping.com/abc-123") == "https://hc-ping.com/abc-123/fail"
    assert fail_url("https://hc.example/ping/abc/?x=1") == "https://hc.example/ping/abc/fail?x=1"


def test_a_notice_a_service_refuses_is_logged_by_target_and_service() -> None:
    with log_lines() as out, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        courier = Courier([target(f"json://127.0.0.1:{port}/x", number=2)]).start()
        courier.send(Notice("account", "t", "b"))
        courier.stop()
    assert '"event": "notification_failed"' in out.getvalue() and '"target": 2' in out.getvalue()
    assert courier.delivered == 0
