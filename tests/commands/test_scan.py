"""The dry run (`scan --dry-run`) against a real ledger and real files."""

from __future__ import annotations

import json
from pathlib import Path

from mavi_sync.config import build_config
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.commands.scan import dry_run
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State
from tests.commands.cli import run_offline


def test_dry_run_against_the_ledger(tmp_path: Path) -> None:
    cams = tmp_path / "cams"
    photo = write_image(cams / "IMG_20251020_110000.jpg", ImageSpec(make="Canon", model="EOS"))
    video = write_video(cams / "clip.mp4", VideoSpec(seconds=0.5))
    copy = cams / "copy-of-photo.jpg"
    copy.write_bytes(photo.read_bytes())
    (cams / "notes.mp4").write_text("not a video")
    config = build_config({"folders": [{"path": str(cams)}]})
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sha = sha256_file(video)
        row = ledger.add(sha, "video", "default", video.stat().st_size)
        ledger.transition(row.id, State.READY)
        ledger.record_path(video, sha, video.stat(), str(cams), row.id)
        photo_row = ledger.add(sha256_file(photo), "image", "default", photo.stat().st_size)
        entries = {e.path.name: e for e in dry_run(config, ledger)}
    assert entries["clip.mp4"].status == "known" and "ready" in entries["clip.mp4"].detail
    assert entries["IMG_20251020_110000.jpg"].status == "duplicate"
    assert entries["copy-of-photo.jpg"].status == "duplicate"
    assert entries["notes.mp4"].status == "refused" and "text file" in entries["notes.mp4"].detail
    assert photo_row.state is State.DISCOVERED


def test_dry_run_without_a_ledger(tmp_path: Path) -> None:
    write_image(tmp_path / "IMG_20251020_110000.jpg", ImageSpec())
    config = build_config({"folders": [{"path": str(tmp_path), "timezone": "UTC"}]})
    [entry] = list(dry_run(config, None))
    assert (entry.status, entry.target) == ("upload", "image")
    assert "taken 2025-10-20 11:00:00 (filename)" in entry.detail


def test_scan_dry_run_lists_and_summarises(tmp_path: Path) -> None:
    cams = tmp_path / "cams"
    write_image(cams / "a.jpg", ImageSpec())
    (cams / "b.mp4").write_text("oops")
    config = tmp_path / "c.toml"
    config.write_text(f'[[folders]]\npath = "{cams}"\n[ledger]\npath = "{tmp_path / "l.sqlite3"}"\n')
    result = run_offline("scan", "--dry-run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "upload     image" in result.stdout and "refused" in result.stdout
    assert result.stdout.strip().endswith("summary: 1 upload, 0 known, 0 duplicate, 1 refused, 0 skipped")
    assert not (tmp_path / "l.sqlite3").exists(), "a dry run must not create the ledger"
    rows = json.loads(run_offline("scan", "--dry-run", "--json", "--config", str(config)).stdout)
    assert {r["status"] for r in rows} == {"upload", "refused"}

