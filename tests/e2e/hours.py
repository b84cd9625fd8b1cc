"""The hours of the day (tests/e2e/test_day.py): what happens to a running box, one method
each: the owner's wrong key, an outage, an upload window, a pause by hand with a reload
of the cap and a `kill -9`, the ledger's disk full. Each waits on conditions with bounded
deadlines; what the daemon must do is a promise (promises.py), what the scene needs to go
on is a precondition (rig.until: it raises).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Optional

from mavi_sync.dev.samples import grown_video
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from mavi_sync.emulator.store import Timing
from mavi_sync.engine.pause import OUTAGE_PROBE_MAX_S, OUTAGE_PROBE_S
from tests.conftest import API_KEY, SECURITY_KEY
from tests.e2e.day import FULL, MAX_ATTEMPTS, PROBE_S, SETTLE_S, Box, sha
from tests.e2e.evening import after_upload, after_upload_metric, ledger, metrics
from tests.e2e.promises import Promises
from tests.e2e.rig import CLI, Daemon, until

SLACK_S = 4.0  # a status read, a scheduler tick and the gate's look, on a loaded 2-core box
FINAL_STATES = ("confirmed", "rejected", "failed")
# Assets take 6 s to be SUCCESS: the follower is still asking about one when the key goes wrong.
TIMING = Timing(parse_delay_s=0.5, asset_waiting_s=3.0, asset_uploading_s=3.0, security_sync_s=0.01,
                callback_delay_s=0.05)


def scale(small: float, full: float) -> float:
    return full if FULL else small


def image_states(ledger_path: Path, shas: set[str]) -> dict[str, str]:
    """The ledger's state of each image row by sha256, read from its SQLite file."""
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True, timeout=10)
    try:
        return {digest: state for digest, state in db.execute("SELECT sha256, state FROM files WHERE target = 'image'")
                if digest in shas}
    finally:
        db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe_interval(down_s: float, trials: list[dict[str, Any]]) -> float:
    """The longest an outage's next trial may be due after the API is back: the interval
    doubles from OUTAGE_PROBE_S at each failed trial (pause.py), so no more than a pause
    that began `down_s` ago can have reached, nor twice the last gap between its trials."""
    interval, spent = OUTAGE_PROBE_S, 0.0
    while spent + interval <= down_s:
        spent, interval = spent + interval, min(OUTAGE_PROBE_MAX_S, interval * 2)
    at = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp() for e in trials]
    if len(at) >= 2:
        interval = min(interval, max(OUTAGE_PROBE_S, 2 * (at[-1] - at[-2])))
    return interval


def hms(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


class Emulator:
    """The emulator on a port of its own, stopped and started again there (an outage)."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY, timing=TIMING, seed=23)
        self.dir = root / "emulator"
        self.server = EmulatorServer(self.dir, self.settings).start()
        self.port = self.server.port
        self.url = self.server.url
        self.admin = Admin(self.url)

    def down(self) -> None:
        self.server.stop()

    def up(self) -> None:
        self.server = EmulatorServer(self.dir, self.settings, port=self.port).start()
        self.admin.close()
        self.admin = Admin(self.url)  # (its pooled connections went with the old server)

    def close(self) -> None:
        self.admin.close()
        self.server.stop()


class Day:
    """One box through the day: its files, its daemon, the emulator, the promises kept."""

    def __init__(self, box: Box, daemon: Daemon, emulator: Emulator, promises: Promises,
                 env: Optional[dict[str, str]] = None, rate_per_minute: int = 600) -> None:
        self.box, self.d, self.emulator, self.p = box, daemon, emulator, promises
        self.rate_per_minute = rate_per_minute
        self.card: Optional[Path] = None  # an SD card's folder, while it is in the config
        self.env = {"MAVI_API_KEY": "", **(env or {})}  # the key comes from the key file only
        self.bandwidth = ""
        box.key_file.write_text(API_KEY + "\n")
        box.key_file.chmod(0o600)
        self.write_config()

    def hour(self, name: str, r: int, *args: Any) -> None:
        """Run the hour `name` of round `r`, its duration kept among the figures."""
        with self.p.timed(name):
            getattr(self, name)(r, *args)

    @property
    def admin(self) -> Admin:
        return self.emulator.admin

    def write_config(self) -> None:
        self.d.config.write_text(self.box.config(self.emulator.url, bandwidth=self.bandwidth,
                                                 rate_per_minute=self.rate_per_minute, card=self.card))

    def start(self) -> None:
        self.d.start(env=self.env)

    def reload(self, bandwidth: Optional[str] = None) -> None:
        """SIGHUP on the config as it now is ([bandwidth] changed if given); returns once applied."""
        if bandwidth is not None:
            self.bandwidth = bandwidth
        self.write_config()
        before = len(self.d.events("config_reloaded"))
        assert self.d.proc is not None
        self.d.proc.send_signal(signal.SIGHUP)
        until(lambda: len(self.d.events("config_reloaded")) > before, 20)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args, "--config", str(self.d.config)], capture_output=True, text=True,
                              timeout=60, env={**os.environ, **self.env})

    def status(self) -> dict[str, Any]:
        """`status --json`, held to its promise: while files wait, the oldest of them is named."""
        for _ in range(3):  # (counts and the oldest are two reads: a file may finish between them)
            st = self.d.status()
            counts = st.get("counts", {})
            waiting = sum(sum(counts.get(s, {}).values()) for s in ("discovered", "ready", "uploading", "uploaded"))
            if not waiting or (st.get("oldest_pending") or {}).get("path"):
                return st
        self.p.check(False, "status names the oldest pending file while files wait", st.get("oldest_pending"))
        return st

    def rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["target"], r["sha256"]): r for r in ledger(self.d)}

    def quiet(self, seconds: float = 60) -> None:
        """Precondition for the next hour: every valid file so far is decided and nothing is in flight."""
        def still_open() -> list[Any]:
            rows = self.rows()
            waiting = [(e.path.name, (rows.get((e.target, e.sha256)) or {}).get("state")) for e in self.box.expects
                       if e.target is not None and (rows.get((e.target, e.sha256)) or {}).get("state") not in FINAL_STATES]
            return waiting or ([] if self.admin.stats()["in_flight"] == 0 else ["a request in flight"])
        wait_for(seconds, still_open, "the files so far to be decided")

    def recover(self, why: str) -> None:
        """A promise broke in a way that holds up the day: the owner restarts the daemon (what
        they would do), so that the rest of the day can still tell what else is broken."""
        self.box.notes.append(f"the daemon was restarted by hand: {why}")
        self.d.stop()
        self.start()

    # -- the hours ---------------------------------------------------------------------------
    def wrong_key(self, r: int) -> None:
        """The owner pastes a new key with a typo, and reloads; the follower's next question
        pauses every upload (bad key). Meanwhile only files that make no request arrive (a
        copy of a confirmed photo, a renamed one, a text file); then the key is corrected,
        without a reload. The pause must end within one probe interval, whatever the queue holds."""
        box, d = self.box, self.d
        photos = [e for e in box.expects if e.path.parent == box.dirs["phone"] and e.path.name.startswith(f"IMG_{r:02d}1")
                  and e.path.suffix == ".jpg" and e.clip is None]
        self.quiet()
        asset = box.clip("assets", f"upload_{r:02d}.mp4")
        until(lambda: any(e.get("path") == str(asset) for e in d.events("upload_succeeded")), 30)
        box.key_file.write_text("sk-mavi-typo-0123456789abcdeX\n")
        self.reload()
        until(lambda: self.status().get("paused") == "bad_key", 20)
        assert (self.rows().get(("asset", sha(asset))) or {}).get("state") == "uploaded", "the scene needs an asset "
        "still followed when the key goes wrong"
        box.copied(photos[0].path, photos[0].path.with_name(photos[0].path.stem + " copy.jpg"))
        box.renamed(photos[1].path, photos[1].path.with_name(f"Holiday {r:02d}.jpg"))
        box.put("phone", f"IMG_{r:02d}list.jpg", b"milk, bread, batteries\n" * 10, None, reason="text file")
        time.sleep(SETTLE_S + 1)  # they settle and wait in the queue (no worker takes them while paused)
        box.key_file.write_text(API_KEY + "\n")
        took = self.p.within(PROBE_S + SLACK_S, lambda: self.status().get("paused") is None,
                             "a pause ends within one probe interval of its cause going away, whatever the queue "
                             "holds (a trial is a real request)", lambda: f"still {self.status().get('paused')}")
        self.p.figures.setdefault("pause_end_after_key_fixed_s", []).append(took and round(took, 1))
        if took is None:
            self.recover("the account pause outlived the wrong key")

    def outage(self, r: int) -> None:
        """The API goes away (the emulator stopped on its port) while files arrive; it comes back."""
        box, d = self.box, self.d
        self.quiet()
        self.emulator.down()
        down = time.monotonic()
        seen = len(d.events("uploads_probing"))
        box.photo("phone", f"IMG_{r:02d}o1.jpg", make="Google", model="Pixel 8")
        box.clip("vid", f"2024-05-02/{r:02d}_out.mp4")
        box.clip("sec", f"cam1/outage_{r:02d}.mp4")
        until(lambda: self.status().get("paused") == "outage", 40)
        time.sleep(scale(0, 60))  # (the soak: a minute without the API)
        self.emulator.up()
        trials = [e for e in d.events("uploads_probing")[seen:] if e.get("reason") == "outage"]
        interval = probe_interval(time.monotonic() - down, trials)
        took = self.p.within(interval + SLACK_S, lambda: self.status().get("paused") is None,
                             "an outage's pause ends within one probe interval of the API's return, whatever the "
                             "queue holds", lambda: f"still {self.status().get('paused')} ({len(trials)} trial(s) "
                             f"while it was down, the next due within {interval:g} s)")
        self.p.figures.setdefault("pause_end_after_api_back_s", []).append(took and round(took, 1))
        if took is None:
            self.recover("the outage's pause outlived the outage")

    def server_errors(self, r: int) -> None:
        """The API answers every request with a 5xx for a while. The owner adds an SD card's
        folder meanwhile, then takes it out of the config again: its files, recorded but never
        sent, must be forgotten. An asset fails for good (every attempt used), and another
        meets v2's "Request has exceeded the limit." on every attempt and is refused: each is
        told in a line of its own, and `mavi-sync retry` sends both once the API is back."""
        box, d = self.box, self.d
        self.quiet()
        self.admin.faults(error_rate=1.0)
        self.card = box.root / "card" / f"DCIM{r:02d}"
        self.card.mkdir(parents=True)
        shots = [box.photo_bytes(make="Canon", model="EOS R6") for _ in range(2)]
        for i, data in enumerate(shots):
            (self.card / f"IMG_{r:02d}{i}.JPG").write_bytes(data)
        box.dropped += [sha(data) for data in shots]
        self.reload()
        doomed = box.photo("assets", f"doomed_{r:02d}.jpg")
        until(lambda: all((self.rows().get(("image", sha(data))) or {}).get("error") for data in shots)
              and (self.rows().get(("asset", sha(doomed))) or {}).get("state") == "failed", 60, 0.5)
        self.card = None
        self.reload()
        self.admin.faults(error_rate=0.0, v2_limit_as_400=True)
        self.admin.script({"path": "/serve/api/v2/upload", "action": "rate_limit", "count": MAX_ATTEMPTS * 3})
        limited = box.clip("assets", f"limited_{r:02d}.mp4")  # (three tries an attempt: every one meets the limit)
        until(lambda: (self.rows().get(("asset", sha(limited))) or {}).get("state") == "rejected", 60, 0.5)
        self.admin.faults(v2_limit_as_400=False)
        for path, event in ((doomed, "upload_failed"), (limited, "media_rejected")):
            told = [e for e in d.events(event) if e.get("path") == str(path)]
            self.p.check(len(told) == 1, "a file that fails or is refused after its last attempt is told so in a "
                         "line of its own, once", f"{path.name}: {len(told)} {event} line(s)")
            retried = self.cli("retry", str(path))
            assert retried.returncode == 0, retried

    def window(self, r: int, blocker: Path) -> None:
        """The upload window closes at its time and opens again at its time (windows computed
        from now, every day: one that spans midnight is still one window). Meanwhile a
        camera's archive, unwritable since the morning, can be written again: its clips must be
        archived by the evening (retried, with the daemon running)."""
        self.quiet()
        blocker.unlink()
        box, now = self.box, datetime.now().replace(microsecond=0)
        close_in, closed_for = 2, scale(6, 60)
        closes, opens = (now + timedelta(seconds=s) for s in (close_in, close_in + closed_for))
        windows = [f"{hms(now - timedelta(hours=1))}-{hms(closes)}", f"{hms(opens)}-{hms(now + timedelta(hours=2))}"]
        self.reload(f"[bandwidth]\nwindows = {json.dumps(windows)}\n")
        closed_from = max(closes.timestamp(), time.time()) + 1.5  # (the gate looks each second)
        until(lambda: (self.status().get("bandwidth") or {}).get("window") == "closed", close_in + 20)
        box.photo("phone", f"IMG_{r:02d}w1.jpg", make="Google", model="Pixel 8")
        box.clip("sec", f"cam1/window_{r:02d}.mp4")
        box.clip("vid", f"2024-05-02/{r:02d}_window.mp4")
        until(lambda: (self.status().get("bandwidth") or {}).get("window") == "open", closed_for + 20)
        # (an upload cut off by the close is not kept by the server)
        sent = [u["filename"] for u in self.admin.uploads() if closed_from < u["created_at"] < opens.timestamp() - 0.5]
        self.p.check(not sent, "nothing is sent while the upload window is closed", sent)

    def by_hand(self, r: int, blocker: Path) -> None:
        """A reload caps the rate; a pause by hand while photos with the same fields and a big
        clip arrive; on resume the photos go in one request and the clip behind them (capped:
        seconds). The photos' outcomes must be recorded as their answer arrives; then `kill -9`,
        the archive made writable again while the daemon is down, and a restart."""
        box, d, admin = self.box, self.d, self.admin
        self.quiet()
        self.reload('[bandwidth]\nlimit = "1M"\n')
        until(lambda: (self.status().get("bandwidth") or {}).get("cap") == "1 MiB/s", 20)
        self.p.check(metrics(box.metrics_port).get(("mavi_sync_bandwidth_cap_bytes_per_second", "")) == 1 << 20,
                     "a reload that changes the cap shows in the metrics")
        paused = self.cli("pause", "--for", "1h")
        assert paused.returncode == 0 and "the daemon holds uploads" in paused.stdout, paused
        burst = [box.photo("phone", f"IMG_{r:02d}b{i}.jpg", make="Apple", model="iPhone 13",
                           taken=f"2024:07:{r % 28 + 1:02d} 09:00:00") for i in range(5)]
        big = grown_video(box.stage / f"big{r}.mp4", 10 << 20, f"big{r}")  # 10 s at the cap
        box.put("vid", f"2024-05-03/{r:02d}_big.mp4", big.read_bytes(), "video")
        big.unlink()
        settled_at = time.monotonic() + SETTLE_S + 1.5  # all six settled by then: queued behind the pause
        st = self.status()
        self.p.check(st["hand_paused"] is not None and "paused by hand" in (st["hand_paused"] or {}).get("text", ""),
                     "status shows the pause by hand")
        time.sleep(max(0.0, settled_at - time.monotonic()))
        m = metrics(box.metrics_port)
        self.p.check(m.get(("mavi_sync_paused_by_hand", "")) == 1 and m.get(("mavi_sync_uploads_in_flight", "")) == 0,
                     "while paused by hand the metrics say so, and nothing counts as uploading",
                     {k: m.get((k, "")) for k in ("mavi_sync_paused_by_hand", "mavi_sync_uploads_in_flight")})
        since = time.time()
        resumed = self.cli("resume")
        assert resumed.returncode == 0 and "the daemon uploads again" in resumed.stdout, resumed
        shas = {sha(p) for p in burst}

        def big_in_flight() -> bool:
            sends = [e for e in admin.stats()["log"] if e["path"] == "/serve/api/v1/upload" and e["at"] >= since]
            return bool(sends) and "done" not in sends[-1]
        until(lambda: shas <= {u["sha256"] for u in admin.uploads("image")} and big_in_flight(), 30, 0.05)
        recorded = lambda: image_states(box.root / "ledger.sqlite3", shas)  # noqa: E731 (read at once, not via a command)
        deadline = time.monotonic() + 3
        while set(states := recorded().values()) != {"confirmed"} and big_in_flight() \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        self.p.check(set(states) == {"confirmed"}, "an image batch's outcomes are recorded as each answer arrives, "
                     "not when the worker's whole turn is done (the capped clip behind them still in flight)",
                     sorted(states))
        if not big_in_flight():
            box.notes.append("by_hand: the capped clip was no longer in flight when the daemon was killed")
        assert d.stop(signal.SIGKILL) == -9
        blocker.unlink()  # the archive disk is back while the daemon is down
        self.bandwidth = ""  # and the owner lifts the cap before starting it again
        self.write_config()
        self.start()
        self.p.within(15, lambda: self.archived(blocker.name), "after-upload duties are re-applied at start",
                      lambda: f"{blocker.name}: still in the watched folder")

    def archived(self, camera: str) -> bool:
        return not any(e.path.exists() for e in self.box.expects
                       if e.target is not None and e.path.parent.name == camera and e.path.suffix != ".txt")

    def idle(self, r: int, *blocked: str) -> None:
        """Mid-morning: every valid file so far is done, while cameras' archives cannot be written."""
        self.quiet()
        self.waiting_to_archive(*blocked)

    def waiting_to_archive(self, *blocked: str) -> None:
        """While cameras' archives cannot be written, their clips wait, and status and the metrics say so."""
        st, m = self.status(), metrics(self.box.metrics_port)
        duty = after_upload(st) or {}
        waiting = (duty.get("waiting") or {}).get("archive", 0)
        oldest = (duty.get("oldest") or {}).get("path") or ""
        self.p.check(waiting >= len(blocked) and any(f"/{c}/" in oldest for c in blocked), "status shows the files "
                     "waiting to archive, and the oldest of them", duty or "no after_upload in status --json")
        self.p.check(waiting >= len(blocked) and after_upload_metric(m, "archive") == waiting,
                     "the metrics show the files waiting to archive", after_upload_metric(m, "archive"))

    def disk_full(self, r: int) -> None:
        """The ledger's disk fills while uploads are claimed and waiting for their rate slots
        (a file-size limit set on the running daemon: no root needed); then space is back."""
        box, d, admin = self.box, self.d, self.admin
        self.quiet()
        before = len(admin.uploads())
        for i in range(8):  # (each its own time: one request each)
            box.photo("phone", f"IMG_{r:02d}d{i}.jpg", make="Google", model="Pixel 8")
        for i in range(4):
            box.clip("vid", f"2024-05-04/{r:02d}_d{i}.mp4")
        until(lambda: len(admin.uploads()) > before, 30, 0.05)  # claims are being made: fill the disk now
        assert d.proc is not None
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (64 << 10, resource.RLIM_INFINITY))
        for i in range(int(scale(20, 120))):
            if d.events("ledger_unwritable"):
                break
            box.photo("assets", f"during_{r:02d}_{i}.jpg")
            time.sleep(0.5)
        until(lambda: d.events("ledger_unwritable"), 30, 0.5)
        time.sleep(scale(2, 30))
        self.p.check(d.proc.poll() is None, "a full ledger disk does not stop the daemon")
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        until(lambda: d.events("ledger_writable_again"), 30, 0.5)

    def unsettled(self) -> list[Any]:
        """What is still open: a file not decided (valid ones confirmed, invalid ones refused),
        or an after-upload action not done."""
        rows = self.rows()
        open_: list[Any] = []
        for e in self.box.expects:
            states = [r["state"] for (t, s), r in rows.items() if s == e.sha256 and e.target in (None, t)]
            if ("rejected" if e.target is None else "confirmed") not in states:
                open_.append((str(e.path.relative_to(self.box.root)), states))
            elif e.target is not None and self.box.folder_of(e.path) in ("sec", "vid") and e.path.exists():
                open_.append((str(e.path.relative_to(self.box.root)), "after-upload action not done"))
        return open_


def wait_for(seconds: float, still_open: Callable[[], list[Any]], what: str) -> None:
    """Precondition: wait (bounded) until nothing is open; fail with what still is."""
    deadline = time.monotonic() + seconds
    while (left := still_open()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"gave up waiting {seconds:g} s for {what}: {left[:10]}"
