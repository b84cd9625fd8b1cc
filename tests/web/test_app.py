"""The page's routes (web/app.py), request by request without sockets, over a real ledger:
the page without JavaScript, actions as forms and as the script sends them, and what is
refused. Over HTTP against a running daemon, with the headers: tests/e2e/test_web.py."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any, Optional
from urllib.parse import urlencode

import pytest

from mavi_sync.config.secrets import Secret
from mavi_sync.owner.gate import hand_pause
from mavi_sync.ledger.states import State
from mavi_sync.web.access import Access
from mavi_sync.web.app import MAX_TARGET, App, Response
from mavi_sync.web.sessions import Sessions
from tests.web.conftest import Rig

HOST = "127.0.0.1:8780"


class Browser:
    """Requests as Chromium sends them from the page, keeping the session cookie it is given."""

    def __init__(self, app: App, host: str = HOST) -> None:
        self.app, self.host, self.token = app, host, ""

    def send(self, method: str, target: str, body: bytes = b"", **headers: str) -> Response:
        sent = {"Host": self.host, "Cookie": f"{self.app.access.cookie}={self.token}" if self.token else "",
                **{k.replace("_", "-"): v for k, v in headers.items()}}
        response = self.app.handle(method, target, {k: v for k, v in sent.items() if v}, body, "127.0.0.1")
        for name, value in response.headers:
            if name == "Set-Cookie":
                self.token = value.split(";")[0].partition("=")[2]
        return response

    def get(self, target: str, **headers: str) -> Response:
        return self.send("GET", target, **headers)

    def post(self, target: str, form: dict[str, Any], *, js: bool = False, **headers: str) -> Response:
        base = {"Origin": f"http://{self.host}", "Sec_Fetch_Site": "same-origin",
                "Content_Type": "application/x-www-form-urlencoded"}
        if js:
            base["Accept"] = "application/json"
        return self.send("POST", target, urlencode(form).encode(), **{**base, **headers})


def answer(response: Response) -> Any:
    return json.loads(response.body)


def app_for(rig: Rig, host: str = "127.0.0.1", password: Optional[str] = None) -> App:
    access = Access(host, 8780, Secret(password, "test") if password else None, Sessions())
    return App(rig.board, access, rig.ledger)


@pytest.fixture
def browser(rig: Rig) -> Browser:
    return Browser(app_for(rig))


def test_the_page_works_without_javascript(rig: Rig, browser: Browser) -> None:
    failed = rig.row("b.jpg", 200, State.FAILED, last_error="HTTP 500")
    page = browser.get("/")
    html = page.body.decode()
    assert page.status == 200 and page.type.startswith("text/html")
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in html  # keeps itself current
    assert '<form method="post" action="/action/pause">' in html and '<form method="post" action="/action/resume">' in html
    assert f'<input type="hidden" name="file" value="{failed}"><button class="retry">Retry</button>' in html
    assert '<form method="get" action="/" role="search">' in html
    assert all(f'<option value="{v}"' in html for v in ("30m", "1h", "2h", "6h", "1d", ""))
    assert browser.token and browser.token not in html  # the session lives in the cookie alone


def test_what_a_file_or_a_search_holds_is_shown_as_text(rig: Rig, browser: Browser) -> None:
    rig.row("<img src=x onerror=alert(1)>.jpg", 10, State.FAILED, last_error="<b>boom</b>")
    rig.row(os.fsdecode(b"caf\xe9.jpg"), 20, State.FAILED, last_error="x")  # not UTF-8: shown, not fatal
    html = browser.get("/?" + urlencode({"q": '"><script>alert(2)</script>'})).body.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.jpg" in html
    assert "<b>boom" not in html and "<script>alert" not in html and "&lt;script&gt;alert(2)" in html
    assert "caf\\udce9.jpg" in html
    assert "\\udce9" in browser.get("/api/v1/page").body.decode()  # the JSON too (ensure_ascii)


def test_a_pause_sent_as_a_form_is_recorded_and_the_next_page_says_so_once(rig: Rig, browser: Browser) -> None:
    browser.get("/")
    first = browser.token
    before = time.time()
    done = browser.post("/action/pause", {"for": "30m"})
    assert done.status == 303 and ("Location", "/") in done.headers and browser.token != first
    hand = hand_pause(rig.ledger.daemon())
    assert hand is not None and hand.by == "the web page (127.0.0.1)"
    assert hand.until is not None and before + 1800 <= hand.until <= time.time() + 1800
    assert "paused by hand by the web page" in browser.get("/").body.decode()
    assert 'id="notice" role="status"></p>' in browser.get("/").body.decode()  # shown once


def test_pause_and_resume_as_the_script_sends_them(rig: Rig, browser: Browser) -> None:
    browser.get("/")
    paused = browser.post("/action/pause", {"for": ""}, js=True)
    assert paused.status == 200 and answer(paused)["ok"] and "until `mavi-sync resume`" in answer(paused)["message"]
    resumed = browser.post("/action/resume", {}, js=True)
    assert answer(resumed) == {"ok": True, "message": answer(resumed)["message"]} and "resumed" in answer(resumed)["message"]
    assert hand_pause(rig.ledger.daemon()) is None
    assert answer(browser.post("/action/resume", {}, js=True))["message"] == "not paused by hand: nothing to resume"


@pytest.mark.parametrize("given", ["forever", "0m", "400d", "2h; rm -rf /"])
def test_a_pause_of_no_sensible_length_is_refused_and_the_page_still_acts(rig: Rig, browser: Browser, given: str) -> None:
    browser.get("/")
    refused = browser.post("/action/pause", {"for": given}, js=True)
    assert refused.status == 400 and not answer(refused)["ok"] and hand_pause(rig.ledger.daemon()) is None
    assert browser.post("/action/pause", {"for": "1h"}, js=True).status == 200  # a new token came with the refusal


def test_a_failed_file_is_retried_as_mavi_sync_retry_does(rig: Rig, browser: Browser) -> None:
    failed = rig.row("b.jpg", 200, State.FAILED, last_error="HTTP 500", attempts=8)
    done = rig.row("a.jpg", 100, State.CONFIRMED)
    browser.get("/")
    retried = answer(browser.post("/action/retry", {"file": failed}, js=True))
    assert retried == {"ok": True, "message": f"{rig.cam / 'b.jpg'} will be tried again"}
    row = rig.ledger.get_by_id(failed)
    assert row is not None and (row.state, row.attempts, row.last_error) == (State.READY, 0, None)
    assert answer(browser.post("/action/retry", {"file": failed}, js=True))["message"].endswith("ready, nothing to retry")
    assert answer(browser.post("/action/retry", {"file": done}, js=True))["message"].endswith("confirmed, nothing to retry")
    for form, status in (({"file": "999"}, 404), ({"file": "abc"}, 400), ({}, 400), ({"file": "-1"}, 400)):
        assert browser.post("/action/retry", form, js=True).status == status


def test_a_replayed_action_is_refused(rig: Rig, browser: Browser) -> None:
    browser.get("/")
    token = browser.token
    assert browser.post("/action/pause", {"for": "1h"}, js=True).status == 200
    browser.token = token  # the same request again, as a log or a proxy kept it
    replay = browser.post("/action/resume", {}, js=True)
    assert replay.status == 403 and "already done" in answer(replay)["message"]
    assert hand_pause(rig.ledger.daemon()) is not None


def test_unknown_routes_wrong_methods_and_oversized_requests(rig: Rig, browser: Browser) -> None:
    assert browser.get("/nope").status == 404 and browser.get("/metrics").status == 404
    wrong = browser.get("/action/pause")
    assert wrong.status == 405 and ("Allow", "POST") in wrong.headers
    assert browser.send("POST", "/").status == 405
    assert browser.get("/?q=" + "a" * MAX_TARGET).status == 414
    assert browser.get("/?q=" + "a" * 201).status == 414
    assert browser.get("/?" + "&".join(f"k{i}=1" for i in range(20))).status == 400
    assert browser.get("/static/page.js").type.startswith("text/javascript")
    assert Browser(browser.app, host="evil.example:8780").get("/api/v1/status").status == 421


def test_the_status_document_is_the_commands(rig: Rig, browser: Browser) -> None:
    rig.row("a.jpg", 100, State.CONFIRMED)
    assert browser.get("/fragment").body is browser.get("/fragment").body  # rendered once per document
    status = answer(browser.get("/api/v1/status"))
    assert status == rig.board.document()["status"] and status["counts"] == {"confirmed": {"image": 1}}
    assert set(answer(browser.get("/api/v1/page"))) >= {"folders", "uploading", "failed", "events", "captions"}


def test_beyond_loopback_the_page_asks_for_its_password(rig: Rig) -> None:
    browser = Browser(app_for(rig, "0.0.0.0", password="correct horse"), host="nas.lan:8780")
    login = browser.get("/")
    assert login.status == 200 and 'type="password"' in login.body.decode() and not browser.token
    denied = browser.get("/api/v1/status")
    assert denied.status == 401 and ("WWW-Authenticate", 'Basic realm="mavi-sync"') in denied.headers
    assert browser.post("/action/pause", {"for": "1h"}).status == 403  # no session
    wrong = browser.post("/login", {"password": "wrong"})
    assert wrong.status == 401 and "wrong password" in wrong.body.decode() and not browser.token
    assert browser.post("/login", {"password": "correct horse"}).status == 303 and browser.token
    assert "correct horse" not in browser.get("/").body.decode() and browser.get("/api/v1/status").status == 200
    basic = base64.b64encode(b"prometheus:correct horse").decode()
    assert Browser(browser.app, host="nas.lan:8780").get("/api/v1/status", Authorization=f"Basic {basic}").status == 200


def test_the_recent_security_captions_are_shown_and_searched(rig: Rig, browser: Browser) -> None:
    rig.row("door.mp4", 10, State.CONFIRMED, target="security", capture_time="2024-05-01T08:00:00",
            result={"text": "A person in a red jacket rings the doorbell."})
    rig.row("yard.mp4", 20, State.CONFIRMED, target="security", capture_time="2024-05-01T09:00:00",
            result={"text": "A cat crosses the yard."})
    everything = browser.get("/").body.decode()
    assert "A person in a red jacket" in everything and "A cat crosses the yard." in everything
    found = browser.get("/?q=RED+JACKET").body.decode()
    assert "1 caption(s) holding" in found and "door.mp4" in found and "A cat crosses" not in found
    assert "No caption holds" in browser.get("/fragment?q=dog").body.decode()


def test_a_bug_answers_500_without_a_traceback_and_the_next_request_is_served(rig: Rig, browser: Browser,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import structlog
    monkeypatch.setattr(rig.board, "document", lambda: {}.__getitem__("status"))  # a KeyError, as a bug raises one
    with structlog.testing.capture_logs() as logs:
        broken = browser.get("/api/v1/page")
    assert broken.status == 500 and b"Traceback" not in broken.body and b"KeyError" not in broken.body
    assert [e["event"] for e in logs] == ["web_request_crashed"] and logs[0]["error_type"] == "KeyError"
    monkeypatch.undo()
    assert browser.get("/api/v1/page").status == 200
