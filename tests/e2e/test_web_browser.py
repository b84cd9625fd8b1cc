"""The status page in a real browser: Debian's Chromium, driven by Playwright, against the
daemon as a subprocess and the emulator. A file goes from queued to confirmed without the
page being loaded again; Pause and Resume hold and release the daemon (and `mavi-sync
status` agrees); a failed file's Retry sends it; another site's form cannot act; and the
page's script logs no error. Skipped, with the reason, where Chromium or Playwright is missing
(`make test-tools` installs Chromium as root).

MAVI_WEB_SCREENSHOT=PATH also saves a picture of the page (docs/web.png is one)."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import Daemon, until
from tests.e2e.test_web import Page, photo, web_daemon

CHROMIUM = Path(os.environ.get("MAVI_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test-tools` installs Debian's as root "
                    "(apt-get install chromium), or set MAVI_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the test extra: make venv")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


class Elsewhere:
    """Another site (http://localhost:PORT, not 127.0.0.1) whose page posts a form to the daemon's."""

    def __init__(self, target: str) -> None:
        html = (f'<form method="post" action="{target}/action/pause"><input name="for" value="1h"></form>'
                '<script>document.forms[0].submit()</script>').encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Elsewhere":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_the_page_follows_the_daemon_and_acts_on_it(chromium: Any, emulator, admin: Admin,  # type: ignore[no-untyped-def]
                                                    spawn: Callable[..., Daemon]) -> None:
    from playwright.sync_api import expect

    d = web_daemon(spawn, emulator.url)
    base = Page(d).base
    errors: list[str] = []
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    try:
        page.goto(base + "/")
        expect(page.locator("#state")).to_contain_text("running")
        page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again

        with Elsewhere(base) as evil:  # another site's form, in another tab of the same browser
            other = context.new_page()
            other.goto(evil.url)
            other.wait_for_url(base + "/action/pause")  # its form was sent: refused, and said why
            assert "another site (Sec-Fetch-Site: cross-site) cannot act here" in other.content()
            other.close()
        assert d.status()["hand_paused"] is None

        page.select_option("select[name=for]", "1h")
        page.click("#pause")
        expect(page.locator("#notice")).to_contain_text("paused by hand by the web page (127.0.0.1)")
        expect(page.locator('.held[data-kind="hand"]')).to_be_visible()  # the live region says so too
        hand = until(lambda: (d.status().get("bandwidth") or {}).get("hand_paused"), 10)  # the daemon holds
        assert hand["by"] == "the web page (127.0.0.1)" and d.status()["hand_paused"]["until"] is not None

        photo(d, "IMG_A.jpg", 60)
        state_of_a = page.locator('#files tr[data-path$="IMG_A.jpg"] td.state')
        expect(state_of_a).to_have_text("queued", timeout=10_000)
        page.click("#resume")
        expect(page.locator("#notice")).to_contain_text("resumed")
        expect(state_of_a).to_have_text("confirmed", timeout=15_000)
        assert d.status()["hand_paused"] is None

        admin.script({"path": "/serve/api/v1/upload_img", "action": "error", "count": 1})
        photo(d, "IMG_B.jpg", 70)
        retry = page.locator('#failed tr[data-path$="IMG_B.jpg"] button.retry')
        expect(retry).to_be_visible(timeout=15_000)
        if os.environ.get("MAVI_WEB_SCREENSHOT"):
            page.screenshot(path=os.environ["MAVI_WEB_SCREENSHOT"], full_page=True)
        retry.click()
        expect(page.locator("#notice")).to_contain_text("IMG_B.jpg will be tried again")
        expect(page.locator('#files tr[data-path$="IMG_B.jpg"] td.state')).to_have_text("confirmed", timeout=15_000)
        expect(page.locator("#failed")).to_contain_text("No failed files.")
        assert page.evaluate("window.loadedOnce") is True
        assert d.status()["counts"] == {"confirmed": {"image": 2}}
    finally:
        context.close()
    assert errors == []
    assert d.stop() == 0
