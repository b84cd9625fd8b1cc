"""The status page over HTTP, served by the daemon as a subprocess against the emulator:
every endpoint, who may act and from where, and bad input refused while uploads go on.
In a real browser: tests/e2e/test_web_browser.py."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any, Callable, Optional

import requests

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from tests.conftest import API_KEY
from tests.e2e.rig import CLI, Daemon, until

FAST = "max_attempts = 1\nrequest_attempts = 1\nfailed_cooldown_s = 0\n"


def web_daemon(spawn: Callable[..., Daemon], url: str, listen: str = "127.0.0.1:0", extra: str = "",
               env: Optional[dict[str, str]] = None) -> Daemon:
    d = spawn(url, uploads=FAST, tables=f'[web]\nlisten = "{listen}"\n{extra}', settle_s=0.2, target="image")
    d.start(env)
    until(lambda: d.events("web_listening") or d.events("web_refused") or d.events("web_unavailable"), 15)
    return d


class Page:
    """A client of the page, sending what a browser sends from it (Origin, Sec-Fetch-Site)."""

    def __init__(self, daemon: Daemon) -> None:
        [event] = daemon.events("web_listening")
        self.base = event["url"].rstrip("/").replace("0.0.0.0", "127.0.0.1")
        self.http = requests.Session()
        self.bodies: list[str] = []

    def get(self, path: str, **kw: Any) -> requests.Response:
        response = self.http.get(self.base + path, timeout=10, allow_redirects=False, **kw)
        self.bodies.append(response.text)
        return response

    def act(self, name: str, form: Optional[dict[str, str]] = None, **headers: str) -> requests.Response:
        sent = {"Origin": self.base, "Sec-Fetch-Site": "same-origin", "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded", **headers}
        response = self.http.post(f"{self.base}/action/{name}", data=form or b"", timeout=10, allow_redirects=False,
                                  headers={k: v for k, v in sent.items() if v})
        self.bodies.append(response.text)
        return response


def photo(daemon: Daemon, name: str, shade: int) -> Path:
    return write_image(daemon.camera / name, ImageSpec(color=(shade, 90, 30)))


def status(daemon: Daemon) -> dict[str, Any]:
    return daemon.status()


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_endpoint_of_a_running_daemon(emulator, spawn) -> None:  # type: ignore[no-untyped-def]
    metrics = free_port()
    d = web_daemon(spawn, emulator.url, extra=f"[metrics]\nport = {metrics}\n")
    page = Page(d)
    first = page.get("/")
    assert first.status_code == 200 and first.headers["Content-Type"] == "text/html; charset=utf-8"
    for name, value in (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                        ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")):
        assert first.headers[name] == value
    assert "script-src 'self'" in first.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in first.headers["Content-Security-Policy"]
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    token = cookie.split(";")[0].partition("=")[2]

    photo(d, "IMG_0001.jpg", 10)
    until(lambda: any(f["state"] == "confirmed" for f in page.get("/api/v1/page").json()["files"]), 20, 0.2)
    assert page.get("/healthz").json() == {"ok": True, "status": "ok"}
    mine = page.get("/api/v1/status").json()
    theirs = json.loads(subprocess.run([*CLI, "status", "--config", str(d.config), "--json"], capture_output=True,
                                       text=True, timeout=30, check=True).stdout)
    for doc in (mine, theirs):
        doc.pop("heartbeat_age_s")
        doc.pop("summary")  # (the heartbeat's line: at most 5 s old on either side)
    assert mine == theirs and mine["counts"] == {"confirmed": {"image": 1}}
    events = page.get("/api/v1/page").json()["events"]
    assert any(e["event"] == "upload_succeeded" and e["path"].endswith("IMG_0001.jpg") for e in events)
    assert "mavi_sync_files" in page.get("/metrics").text  # the [metrics] registry, on this port too
    assert "mavi_sync_files" in requests.get(f"http://127.0.0.1:{metrics}/metrics", timeout=10).text
    fragment = page.get("/fragment").text
    assert 'id="live" data-live' in fragment and "IMG_0001.jpg" in fragment
    assert page.get("/static/page.js").headers["Content-Type"].startswith("text/javascript")
    assert page.get("/nothing").status_code == 404
    assert not any(API_KEY in body or token in body for body in page.bodies)  # nor in any page or answer
    assert d.stop() == 0


def test_actions_need_the_pages_session_and_come_from_the_page(emulator, admin: Admin, spawn) -> None:  # type: ignore[no-untyped-def]
    d = web_daemon(spawn, emulator.url)
    page = Page(d)
    assert page.act("pause", {"for": "1h"}).status_code == 403  # no session yet: the page gives it
    page.get("/")
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "", "Sec-Fetch-Site": ""}):
        refused = page.act("pause", {"for": "1h"}, **headers)
        assert refused.status_code == 403 and not refused.json()["ok"]
    assert page.http.get(f"{page.base}/action/pause", timeout=10).status_code == 405
    forged = requests.post(f"{page.base}/action/pause", data={"for": "1h"}, timeout=10,
                           headers={"Origin": page.base, "Cookie": f"mavi_sync_web_{page.base.rsplit(':', 1)[1]}=forged"})
    assert forged.status_code == 403
    assert status(d)["hand_paused"] is None  # nothing of that did anything

    jar = dict(page.http.cookies)
    paused = page.act("pause", {"for": "1h"})
    assert paused.status_code == 200 and paused.json()["ok"]
    until(lambda: (status(d).get("bandwidth") or {}).get("hand_paused"), 10)  # the daemon took it
    assert "by the web page (127.0.0.1)" in status(d)["hand_paused"]["text"]
    until(lambda: page.get("/healthz").json() == {"ok": True, "status": "held"}, 5)  # (a document is <= 1 s old)
    page.act("resume")  # (so that a replayed pause would show)
    until(lambda: status(d)["hand_paused"] is None, 10)
    replay = requests.post(f"{page.base}/action/pause", data={"for": "1h"}, cookies=jar, timeout=10,
                           headers={"Origin": page.base, "Sec-Fetch-Site": "same-origin", "Accept": "application/json"})
    assert replay.status_code == 403 and "already done" in replay.json()["message"]
    assert status(d)["hand_paused"] is None
    assert page.act("pause", {"for": "1h"}).json()["ok"]

    admin.script({"path": "/serve/api/v1/upload_img", "action": "error", "count": 1})
    photo(d, "bad.jpg", 20)  # queued while paused
    assert page.act("resume").json()["ok"]
    failed = until(lambda: page.get("/api/v1/page").json()["failed"], 20, 0.2)
    assert failed[0]["path"].endswith("bad.jpg") and failed[0]["error"]
    assert page.act("retry", {"file": str(failed[0]["id"])}).json()["ok"]
    until(lambda: status(d)["counts"] == {"confirmed": {"image": 1}}, 20, 0.2)
    assert d.stop() == 0


def test_bad_input_is_refused_and_uploads_go_on(emulator, spawn) -> None:  # type: ignore[no-untyped-def]
    d = web_daemon(spawn, emulator.url)
    page = Page(d)
    host, port = page.base.removeprefix("http://").rsplit(":", 1)
    assert page.get("/?q=" + "x" * 100_000).status_code == 414  # cut off at 64 KiB by the standard library
    assert page.get("/?q=" + "x" * 3000).status_code == 414
    assert page.get("/?q=" + "x" * 300).status_code == 414  # a search is at most 200 characters
    with closing(socket.create_connection((host, int(port)), timeout=10)) as raw:
        raw.sendall(b"POST /action/pause HTTP/1.1\r\nHost: " + f"{host}:{port}".encode() +
                    b"\r\nContent-Length: 4097\r\n\r\n")  # a form of more than 4 KiB, and never its body
        assert raw.recv(100).startswith(b"HTTP/1.0 413")
    assert page.get("/api/v1/status", headers={"Host": f"rebound.example:{port}"}).status_code == 421
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(20)]  # and never a request
    try:
        turned_away = 0
        for s in idle[16:]:
            turned_away += s.recv(100).startswith(b"HTTP/1.0 503")
        assert turned_away == 4  # the 17th and later: at most 16 connections at once
    finally:
        for s in idle:
            s.close()
    photo(d, "IMG_0002.jpg", 30)
    until(lambda: status(d)["counts"] == {"confirmed": {"image": 1}}, 20, 0.2)
    until(lambda: page.get("/healthz").status_code == 200, 15)  # the idle ones timed out (10 s)
    assert d.stop() == 0


def test_a_port_in_use_is_said_and_uploads_go_on(emulator, spawn) -> None:  # type: ignore[no-untyped-def]
    with closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        d = web_daemon(spawn, emulator.url, listen=listen)
        [said] = d.events("web_unavailable")
        assert said["level"] == "error" and said["key"] == "web.listen" and said["value"] == listen
        assert "in use" in said["error"] and "uploads go on" in said["hint"] and "every 30 s" in said["hint"]
        photo(d, "IMG_0003.jpg", 40)
        until(lambda: status(d)["counts"] == {"confirmed": {"image": 1}}, 20, 0.2)
    d.write_config(emulator.url, uploads=FAST, tables='[web]\nlisten = "127.0.0.1:0"\n', settle_s=0.2, target="image")
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)  # [web] is read at start: a reload says so
    [partial] = until(lambda: d.events("config_reload_partial"), 10)
    assert "[web]" in partial["after_restart"]
    assert d.stop() == 0


def test_beyond_loopback_without_a_password_the_page_is_refused_and_uploads_go_on(emulator, spawn) -> None:  # type: ignore[no-untyped-def]
    d = web_daemon(spawn, emulator.url, listen="0.0.0.0:0", env={"MAVI_WEB_PASSWORD": ""})
    [said] = d.events("web_refused")
    assert said["key"] == "web.password" and said["value"] == "0.0.0.0:0"
    assert "needs a password" in said["error"] and "MAVI_WEB_PASSWORD" in said["error"]
    assert not d.events("web_listening")
    photo(d, "IMG_0004.jpg", 50)
    until(lambda: status(d)["counts"] == {"confirmed": {"image": 1}}, 20, 0.2)
    assert d.stop() == 0


def test_beyond_loopback_the_page_asks_for_its_password(emulator, spawn) -> None:  # type: ignore[no-untyped-def]
    d = web_daemon(spawn, emulator.url, listen="0.0.0.0:0", env={"MAVI_WEB_PASSWORD": "correct horse battery"})
    page = Page(d)
    assert page.get("/healthz").status_code == 200  # for monitors and the container, without a password
    assert 'type="password"' in page.get("/").text and not page.http.cookies
    assert page.get("/api/v1/status").status_code == 401
    assert page.get("/api/v1/status", auth=("any", "correct horse battery")).status_code == 200
    origin = {"Origin": page.base}
    assert page.http.post(page.base + "/login", data={"password": "nope"}, headers=origin, timeout=10).status_code == 401
    logged_in = page.http.post(page.base + "/login", data={"password": "correct horse battery"}, headers=origin,
                               timeout=10, allow_redirects=False)
    assert logged_in.status_code == 303 and page.get("/").status_code == 200 and "Pause" in page.get("/").text
    assert page.act("pause", {"for": "30m"}).json()["ok"]
    assert not any("correct horse battery" in body for body in page.bodies)
    assert d.stop() == 0


def test_an_account_that_cannot_upload_is_said_and_makes_healthz_fail_until_it_can(emulator, admin: Admin,  # type: ignore[no-untyped-def]
                                                                                   spawn) -> None:
    d = web_daemon(spawn, emulator.url)
    page = Page(d)
    assert page.get("/healthz").json() == {"ok": True, "status": "ok"}
    admin.faults(bad_key=True)
    photo(d, "IMG_0005.jpg", 60)
    until(lambda: page.get("/healthz").status_code == 503, 20, 0.2)
    assert page.get("/healthz").json() == {"ok": False, "status": "account"}
    held = page.get("/api/v1/page").json()["held"]
    assert [h["kind"] for h in held] == ["account"] and "bad_key" in held[0]["text"]
    assert "The account cannot upload" in page.get("/").text
    admin.faults(bad_key=False)  # the next trial (account_probe_s = 2) gets through
    until(lambda: page.get("/healthz").json() == {"ok": True, "status": "ok"}, 20, 0.2)
    until(lambda: status(d)["counts"] == {"confirmed": {"image": 1}}, 20, 0.2)
    assert d.stop() == 0
