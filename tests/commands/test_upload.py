"""`mavi-sync upload`: sends, follows and remembers; explains what stops it; streams big files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.emulator.admin import Admin
from tests.commands.cli import config_for, run
from tests.conftest import API_KEY


def test_upload_sends_follows_and_remembers(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    video = write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    image = write_image(tmp_path / "cam" / "b.jpg", ImageSpec(taken="2024:01:01 10:00:00"))
    junk = tmp_path / "cam" / "c.mp4"
    junk.write_text("not a video")
    first = run("upload", "--config", str(config), str(video), str(image), str(junk), "--json")
    assert first.returncode == 1, first.stderr  # one file was refused
    rows = {Path(r["path"]).name: r for r in json.loads(first.stdout)}
    assert rows["a.mp4"]["state"] == "confirmed" and rows["a.mp4"]["remote_status"] == "PARSE"
    assert rows["b.jpg"]["state"] == "confirmed" and rows["c.mp4"]["state"] == "rejected"
    assert "text file" in rows["c.mp4"]["detail"]
    again = run("upload", "--config", str(config), str(video), str(image))
    assert again.returncode == 0 and again.stdout.count("already uploaded") == 2
    assert len(admin.uploads("video")) == 1 and len(admin.uploads("image")) == 1
    assert API_KEY not in first.stdout + first.stderr + again.stdout + again.stderr



def test_upload_explains_an_account_problem(emulator, admin, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    video = write_video(tmp_path / "cam" / "a.mp4", VideoSpec())
    result = run("upload", "--config", str(config), str(video), env={"MAVI_API_KEY": "sk-mavi-wrong-key-000"})
    assert result.returncode == 1
    assert "account problem (bad_key" in result.stderr and "Try: Check the API key" in result.stderr
    assert "sk-mavi-wrong-key-000" not in result.stderr



def test_upload_refuses_a_file_outside_the_folders(emulator, tmp_path: Path) -> None:
    config = config_for(tmp_path, emulator.url)
    stray = write_video(tmp_path / "elsewhere.mp4", VideoSpec())
    result = run("upload", "--config", str(config), str(stray))
    assert result.returncode == 1 and "is not inside a configured folder" in result.stderr



def test_a_multi_hundred_mb_upload_keeps_the_client_small(tmp_path: Path) -> None:
    """Streaming, not buffering: the client process's peak RSS stays far below the file size."""
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    with EmulatorServer(tmp_path / "e", Settings(api_key=API_KEY, keep_bytes=False)) as emulator:
        peak_mb, asset = _upload_big(emulator.url, tmp_path)
    assert asset["size"] == 400 * 1000 * 1000 and asset["sha256"] == SPARSE_400MB_SHA256
    print(f"client peak RSS {peak_mb} MB for a 400 MB upload")
    assert peak_mb < 120, f"client peak RSS {peak_mb} MB for a 400 MB upload"



# sha256 of 400,000,000 zero bytes
SPARSE_400MB_SHA256 = "36286c9dd45c90a7ff4443de7fc7301c5bc4900ff415d789dbc7f9a32a9dbb83"



def _upload_big(url: str, tmp_path: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    big = tmp_path / "big.mkv"
    with open(big, "wb") as f:
        f.truncate(400 * 1000 * 1000)  # sparse: costs no disk
    script = f"""
import os, sys
from pathlib import Path
from mavi_sync.api.client import Client, KeyRing
from mavi_sync.api.model import UploadJob
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
url = {url!r}
config = build_config({{"api": {{"base_url": url, "security_base_url": url, "asset_base_url": url}},
                        "folders": [{{"path": {str(tmp_path)!r}}}]}})
client = Client.from_config(config, keys=KeyRing.of(Secret({API_KEY!r}, "t")))
st = os.stat({str(big)!r})
job = UploadJob(Path({str(big)!r}), "asset", "big.mkv", "video/x-matroska", st.st_size, st.st_mtime_ns, "0" * 64)
client.upload(job)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec,
# so a large pytest process would show up as this client's peak.
print(int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]) // 1024)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [asset] = Admin(url).uploads("asset")
    return int(result.stdout.strip()), asset

