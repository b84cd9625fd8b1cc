"""Who may read and act (web/access.py, web/sessions.py): the rules alone, on headers as a
browser sends them. Over HTTP against a running daemon: tests/e2e/test_web.py."""

from __future__ import annotations

import base64

import pytest

from mavi_sync.config.secrets import Secret
from mavi_sync.web.access import WRONG_PASSWORDS, Access, Refused, Request
from mavi_sync.web.sessions import IDLE_S, MAX_SESSIONS, Sessions

FORM = "application/x-www-form-urlencoded"


def browser_post(access: Access, token: str, **headers: str) -> Request:
    """An action as Chromium sends it from the page: same-origin, with Origin and the cookie."""
    base = {"host": "127.0.0.1:8780", "origin": "http://127.0.0.1:8780", "sec-fetch-site": "same-origin",
            "content-type": FORM, "cookie": f"other=1; {access.cookie}={token}"}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Request("POST", {k: v for k, v in base.items() if v != ""})


@pytest.fixture
def loopback() -> Access:
    return Access("127.0.0.1", 8780, None, Sessions())


def test_an_action_from_the_page_spends_its_token_and_a_replay_is_refused(loopback: Access) -> None:
    token = loopback.sessions.new()
    assert loopback.act(browser_post(loopback, token)) is not None
    with pytest.raises(Refused) as replay:
        loopback.act(browser_post(loopback, token))
    assert replay.value.status == 403 and "already done" in replay.value.reason


@pytest.mark.parametrize("headers,status,words", [
    ({"sec_fetch_site": "cross-site"}, 403, "another site"),
    ({"sec_fetch_site": "same-site"}, 403, "another site"),
    ({"origin": "http://evil.example"}, 403, "evil.example"),
    ({"origin": "null"}, 403, "cannot act"),
    ({"origin": "http://127.0.0.1:9999"}, 403, "cannot act"),
    ({"origin": "", "sec_fetch_site": ""}, 403, "no Origin"),
    ({"content_type": "application/json"}, 415, "form"),
    ({"content_type": "text/plain"}, 415, "form"),
    ({"cookie": ""}, 403, "no valid session"),
    ({"cookie": "mavi_sync_web_8780=forged-token"}, 403, "no valid session"),
    ({"cookie": "mavi_sync_web_9999=TOKEN"}, 403, "no valid session"),  # another daemon's cookie
])
def test_forged_and_cross_site_actions_are_refused_and_spend_nothing(loopback: Access, headers: dict[str, str],
                                                                      status: int, words: str) -> None:
    token = loopback.sessions.new()
    headers = {k: v.replace("TOKEN", token) for k, v in headers.items()}
    with pytest.raises(Refused) as refused:
        loopback.act(browser_post(loopback, token, **headers))
    assert refused.value.status == status and words in refused.value.reason
    assert loopback.act(browser_post(loopback, token)) is not None  # the real one still works, once


def test_an_action_is_a_post(loopback: Access) -> None:
    token = loopback.sessions.new()
    request = browser_post(loopback, token)
    with pytest.raises(Refused) as refused:
        loopback.act(Request("GET", request.headers))
    assert refused.value.status == 405


def test_on_loopback_only_this_listeners_names_are_answered(loopback: Access) -> None:
    for host in ("127.0.0.1:8780", "localhost:8780", "[::1]:8780", "LOCALHOST:8780"):
        loopback.check_host(Request("GET", {"host": host}))
    for host in ("evil.example:8780", "127.0.0.1:9999", "", "127.0.0.1"):  # DNS rebinding names another host
        with pytest.raises(Refused) as refused:
            loopback.check_host(Request("GET", {"host": host}))
        assert refused.value.status == 421
    assert loopback.may_read(Request("GET", {"host": "127.0.0.1:8780"}))


def test_beyond_loopback_reading_needs_a_session_or_the_password() -> None:
    access = Access("0.0.0.0", 8780, Secret("correct horse", "test"), Sessions())
    access.check_host(Request("GET", {"host": "nas.lan:8780"}))  # any name reaches it
    assert not access.may_read(Request("GET", {}))

    def basic(password: str) -> Request:
        return Request("GET", {"authorization": "Basic " + base64.b64encode(f"me:{password}".encode()).decode()})

    assert access.may_read(basic("correct horse"))
    with pytest.raises(Refused) as wrong:
        access.may_read(basic("wrong"))
    assert wrong.value.status == 401
    token = access.login(browser_post(access, "", host="nas.lan:8780", origin="http://nas.lan:8780"), "correct horse")
    assert access.may_read(Request("GET", {"cookie": f"{access.cookie}={token}"}))


def test_wrong_passwords_are_limited_whoever_sends_them() -> None:
    now = [0.0]
    access = Access("0.0.0.0", 8780, Secret("right", "test"), Sessions(), clock=lambda: now[0])
    post = browser_post(access, "", host="nas.lan:8780", origin="http://nas.lan:8780")
    for _ in range(WRONG_PASSWORDS):
        with pytest.raises(Refused) as refused:
            access.login(post, "guess")
        assert refused.value.status == 401
    with pytest.raises(Refused) as limited:
        access.login(post, "right")  # even the right one waits: a guesser learns nothing
    assert limited.value.status == 429
    now[0] = 61.0
    assert access.login(post, "right")


def test_a_login_from_another_site_is_refused() -> None:
    access = Access("0.0.0.0", 8780, Secret("right", "test"), Sessions())
    with pytest.raises(Refused):
        access.login(browser_post(access, "", host="nas.lan:8780", origin="http://evil.example"), "right")


def test_the_cookie_is_http_only_same_site_strict_and_named_by_port(loopback: Access) -> None:
    cookie = loopback.set_cookie("abc")
    assert cookie.startswith("mavi_sync_web_8780=abc;") and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_sessions_expire_when_idle_and_are_bounded() -> None:
    now = [0.0]
    sessions = Sessions(clock=lambda: now[0])
    first = sessions.new()
    now[0] = IDLE_S - 1
    assert sessions.get(first) is not None  # seen: its idle time starts again
    now[0] += IDLE_S + 1
    assert sessions.get(first) is None
    tokens = [sessions.new() for _ in range(MAX_SESSIONS + 5)]
    assert sessions.get(tokens[0]) is None and sessions.get(tokens[-1]) is not None
    assert len({*tokens}) == len(tokens) and all(len(t) >= 40 for t in tokens)


def test_a_flash_is_shown_once() -> None:
    sessions = Sessions()
    token = sessions.new(flash="paused")
    assert sessions.take_flash(token) == "paused" and sessions.take_flash(token) == ""


def test_on_loopback_a_password_given_is_asked_for_and_any_host_may_ask() -> None:
    """A reverse proxy on the same box forwards its own Host: with a password, that is no rebinding risk."""
    access = Access("127.0.0.1", 8780, Secret("s3cret", "test"), Sessions())
    access.check_host(Request("GET", {"host": "nas.example.org"}))
    assert not access.may_read(Request("GET", {"host": "nas.example.org"}))
    token = access.login(browser_post(access, "", host="nas.example.org", origin="https://nas.example.org"), "s3cret")
    assert access.may_read(Request("GET", {"cookie": f"{access.cookie}={token}"}))
