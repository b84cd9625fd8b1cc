"""The daemon tells its owner, through Apprise, once per episode: an account that cannot
upload and its end, a long outage and its end, files that failed for good, a caption that
names a watched word, the daily digest; and it pings a health check URL, its /fail form while
paused. A real HTTP receiver on 127.0.0.1 takes Apprise's json:// posts and the pings; the
emulator's account faults and a stopped emulator make each episode."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from tests.conftest import API_KEY, SECURITY_KEY, fast_timing
from tests.e2e.inbox import Inbox
from tests.e2e.rig import CLI, Daemon, until

TOKEN = "tok-3f9a1c77e2"  # in the notification URL's path, as a service's token is


def notify_tables(inbox: Inbox, *, events: str = "", notify: str = "", health: bool = True) -> str:
    """[notify] with one json:// target read from $MAVI_NOTIFY_URL, and [health] pinging the
    inbox every second, its URL read from a file (both loaded like the API key)."""
    tables = f"[notify]\n{notify}\n[[notify.targets]]\nurl = {{ env = \"MAVI_NOTIFY_URL\" }}\n{events}\n"
    if health:
        tables += '[health]\nping = { file = "ping.url" }\ninterval_s = 1\n'
    return tables


def env(inbox: Inbox) -> dict[str, str]:
    return {"MAVI_NOTIFY_URL": f"json://127.0.0.1:{inbox.port}/notify/{TOKEN}"}


def titles(inbox: Inbox) -> list[str]:
    return [n["title"] for n in inbox.notices(f"/notify/{TOKEN}")]


def test_an_account_pause_is_told_once_and_its_end_once_and_pings_say_fail_meanwhile(
        spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin) -> None:
    with Inbox() as inbox:
        d = spawn(emulator.url, tables=notify_tables(inbox))
        (d.root / "ping.url").write_text(inbox.url(f"/ping/{TOKEN}") + "\n")
        admin.faults(no_credits=True)
        d.start(env=env(inbox))
        write_video(d.camera / "a.mp4", VideoSpec(seconds=1))
        until(lambda: any("paused" in t for t in titles(inbox)), 30)
        until(lambda: f"/ping/{TOKEN}/fail" in inbox.pings(), 10)
        time.sleep(5)  # two more account trials (account_probe_s = 2) fail meanwhile
        assert len(d.events("uploads_probing")) >= 2
        admin.faults(no_credits=False)
        until(lambda: d.count("confirmed") == 1, 30)
        until(lambda: any("resumed" in t for t in titles(inbox)), 10)
        until(lambda: inbox.pings()[-1] == f"/ping/{TOKEN}", 10)
        time.sleep(1.5)
        assert d.stop() == 0
        notices = inbox.notices(f"/notify/{TOKEN}")
        check = subprocess.run([*CLI, "check-config", str(d.config)], capture_output=True, text=True, timeout=60,
                               env={**env(inbox), "PATH": "/usr/bin:/bin", "MAVI_API_KEY": API_KEY})
        status = subprocess.run([*CLI, "status", "--config", str(d.config)], capture_output=True, text=True,
                                timeout=60)
    assert [n["title"].split(": ", 1)[1] for n in notices] == [
        "uploads paused (the account has no credits left)", "uploads resumed"], notices
    assert notices[0]["type"] == "failure" and "no credits" in notices[0]["message"].lower()
    assert notices[1]["type"] == "success"
    # The ping URL came from its file; while paused, its /fail form went instead.
    pings = inbox.pings()
    assert f"/ping/{TOKEN}" in pings[:2] and f"/ping/{TOKEN}/fail" in pings
    # Tokens and keys appear nowhere but in the requests themselves.
    shown = d.logs() + check.stdout + check.stderr + status.stdout + "".join(str(n) for n in notices)
    assert TOKEN not in shown and API_KEY not in shown and SECURITY_KEY not in shown
    assert "notify 1    json (env MAVI_NOTIFY_URL)" in check.stdout, check.stdout
    assert "health ping http (file " in check.stdout, check.stdout
    assert [e["service"] for e in d.events("notification_sent")] == ["json", "json"]


def test_a_long_outage_is_told_once_after_outage_after_s_and_its_end_once(
        spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY, timing=fast_timing(), seed=3)
    server = EmulatorServer(tmp_path / "emulator", settings).start()
    try:
        with Inbox() as inbox:
            d = spawn(server.url, tables=notify_tables(inbox, notify="outage_after_s = 3", health=False))
            d.start(env=env(inbox))
            write_video(d.camera / "a.mp4", VideoSpec(seconds=1))
            until(lambda: d.count("confirmed") == 1, 30)
            port = server.port
            server.stop()
            write_video(d.camera / "b.mp4", VideoSpec(seconds=2))
            until(lambda: d.status().get("paused") == "outage", 30, 0.3)
            until(lambda: titles(inbox), 15)
            time.sleep(4)  # probes keep failing: still one notice
            assert len(titles(inbox)) == 1
            server = EmulatorServer(tmp_path / "emulator", settings, port=port).start()
            until(lambda: d.count("confirmed") == 2, 60, 0.3)
            until(lambda: len(titles(inbox)) == 2, 10)
            time.sleep(1.5)
            assert d.stop() == 0
            notices = inbox.notices(f"/notify/{TOKEN}")
    finally:
        server.stop()
    assert "memories.ai unreachable for" in notices[0]["title"] and notices[0]["type"] == "failure"
    assert "reachable again" in notices[1]["title"] and notices[1]["type"] == "success"
    assert len(notices) == 2, notices


def test_failures_captions_and_the_digest_are_told_each_once(
        spawn: Callable[..., Daemon], emulator: EmulatorServer, admin: Admin) -> None:
    digest_at = (datetime.now() + timedelta(seconds=12)).strftime("%H:%M:%S")
    with Inbox() as inbox:
        d = spawn(emulator.url)
        folders = (f'[[folders]]\npath = "{d.camera}"\ntarget = "security"\nsettle_s = 1\n'
                   '[folders.security]\nuser_prompt = "Is a Person at the gate?"\n'
                   f'[[folders]]\npath = "{d.root / "quiet"}"\ntarget = "security"\nsettle_s = 1\n'
                   '[folders.security]\nuser_prompt = "What moves?"\n'
                   f'[[folders]]\npath = "{d.root / "video"}"\ntarget = "video"\nsettle_s = 1\n')
        (d.root / "quiet").mkdir()
        (d.root / "video").mkdir()
        d.write_config(emulator.url, folders=folders, uploads="max_attempts = 1\nfailed_cooldown_s = 0\n",
                       tables=notify_tables(inbox, health=False, notify=f'caption_words = ["person", "vehicle"]\n'
                                                                         f'digest_at = "{digest_at}"'))
        d.start(env=env(inbox))
        admin.script({"path": "/serve/api/v1/upload", "action": "error", "count": 100})
        write_video(d.camera / "gate.mp4", VideoSpec(seconds=1))
        write_video(d.root / "quiet" / "yard.mp4", VideoSpec(seconds=1, fps=12))
        write_video(d.root / "video" / "x.mp4", VideoSpec(seconds=1, size=(80, 48)))
        write_video(d.root / "video" / "y.mp4", VideoSpec(seconds=2))
        until(lambda: d.count("failed") == 2 and d.count("confirmed") == 2, 40)
        until(lambda: any("daily digest" in t for t in titles(inbox)), 30)
        time.sleep(1)
        assert d.stop() == 0
        notices = {n["title"].split(": ", 1)[1]: n for n in inbox.notices(f"/notify/{TOKEN}")}
    assert len(notices) == 3, list(notices)
    caption = notices["person in gate.mp4"]
    assert str(d.camera / "gate.mp4") in caption["message"] and "Is a Person at the gate?" in caption["message"]
    failed = notices["2 files failed"]["message"]
    assert str(d.root / "video" / "x.mp4") in failed and str(d.root / "video" / "y.mp4") in failed
    digest = notices["daily digest"]["message"]
    assert "- uploaded: 2 file(s)" in digest and "- failed: 2" in digest, digest
