"""`make demo`: the emulator, a sample folder, the daemon, more files while it runs, then status.

Real camera files come from ../shared/media when it is there (a few that every target
takes); otherwise, and for the files dropped in while the daemon runs, real media is
written here with PyAV and Pillow. Everything lives under .demo/ and is removed first.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video

REPO = Path(__file__).resolve().parents[2]  # mavi_sync/dev/demo.py → the repository
WORK = REPO / ".demo"
CORPUS = Path(os.environ.get("MAVI_MEDIA_CORPUS", REPO.parent / "shared" / "media"))
KEY = "sk-mavi-demo-key-not-a-real-one"
CLI = [sys.executable, "-m", "mavi_sync"]


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def corpus_files(limit: int = 6) -> list[Path]:
    """A few real camera files that decode and that an endpoint takes (JPEG, MP4, MOV)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with open(manifest, newline="", encoding="utf-8", errors="replace") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r.get("file")]
    good = [CORPUS / r["file"] for r in rows if r.get("decodes") == "yes" and not r["file"].startswith("corrupt/")
            and int(r.get("bytes") or 0) < 30_000_000 and (CORPUS / r["file"]).is_file()]
    images = [p for p in good if p.suffix.lower() == ".jpg"]
    videos = [p for p in good if p.suffix.lower() in (".mp4", ".mov")]
    return images[:limit - 2] + videos[:2]


def config_text(url: str) -> str:
    return f"""
log_level = "info"
[api]
base_url = "{url}"
security_base_url = "{url}"
asset_base_url = "{url}"
[uploads]
rate_limit_per_minute = 600
status_poll_initial_s = 1
status_poll_max_s = 2
[ledger]
path = "{WORK / 'ledger.sqlite3'}"
[[folders]]
path = "{WORK / 'camera'}"
settle_s = 2
tags = ["demo"]
tag_templates = ["{{year}}-{{month}}"]
[[folders]]
path = "{WORK / 'nvr'}"
target = "video"
settle_s = 2
camera_model = "Demo NVR channel 1"
latitude = 52.52
longitude = 13.405
timezone = "Europe/Berlin"
after_upload = "archive"
archive_dir = "{WORK / 'archive'}"
"""


def wait_for(url: str, seconds: float = 20) -> None:
    import requests
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/_admin/faults", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the emulator did not start")


def all_confirmed(config: Path, expected: int, seconds: float = 90) -> bool:
    import json
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out = subprocess.run([*CLI, "status", "--config", str(config), "--json"], capture_output=True, text=True)
        if out.returncode == 0:
            counts = json.loads(out.stdout)["counts"]
            if sum(counts.get("confirmed", {}).values()) >= expected:
                return True
        time.sleep(1)
    return False


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    for sub in ("camera", "nvr", "archive", "emulator"):
        (WORK / sub).mkdir(parents=True)
    env = {**os.environ, "MAVI_API_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    say(f"starting the memories.ai emulator on {url}")
    emulator = subprocess.Popen([*CLI, "emulator", "--port", str(port), "--data-dir", str(WORK / "emulator"),
                                 "--parse-delay", "2"], env=env, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        wait_for(url)
        real = corpus_files()
        say(f"sample folder: {len(real)} real camera files from {CORPUS}" if real else
            "sample folder: ../shared/media not found; writing sample media instead")
        for path in real:
            shutil.copy2(path, WORK / "camera" / path.name)
        write_image(WORK / "camera" / "IMG_20250601_123000.jpg",
                    ImageSpec(make="Canon", model="Canon EOS 5D", taken="2025:06:01 12:30:00", gps=(48.8584, 2.2945)))
        config = WORK / "config.toml"
        config.write_text(config_text(url), encoding="utf-8")
        say("starting the daemon: mavi-sync run")
        log = open(WORK / "daemon.log", "w", encoding="utf-8")
        daemon = subprocess.Popen([*CLI, "run", "--config", str(config)], env=env, stdout=log, stderr=log)
        time.sleep(3)
        say("dropping more files in while it runs (one written slowly, one renamed from .part)")
        slow = WORK / "nvr" / "ch01_20251020_110000.mp4"
        data = write_video(WORK / "slow.mp4", VideoSpec(seconds=3)).read_bytes()
        with open(slow, "wb") as out:
            for i in range(0, len(data), max(1, len(data) // 5)):
                out.write(data[i:i + max(1, len(data) // 5)])
                out.flush()
                time.sleep(0.5)
        part = WORK / "nvr" / "ch02_20251020_120000.mp4.part"  # how NVRs write: a temp name, then a rename
        part.write_bytes(write_video(WORK / "hevc.mp4", VideoSpec(seconds=2, codec="libx265")).read_bytes())
        part.rename(part.with_suffix(""))
        write_image(WORK / "camera" / "holiday.png", ImageSpec(taken="2024:08:15 09:00:00"))
        expected = len(real) + 4
        ok = all_confirmed(config, expected)
        say("mavi-sync status")
        subprocess.run([*CLI, "status", "--config", str(config)])
        say("archived after confirmation: " + ", ".join(sorted(p.name for p in (WORK / "archive").rglob("*")
                                                                   if p.is_file())))
        print(f"\nlogs: {WORK / 'daemon.log'}; ledger: {WORK / 'ledger.sqlite3'}")
        return 0 if ok else 1
    finally:
        for proc in (daemon, emulator):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(40)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    sys.exit(main())
