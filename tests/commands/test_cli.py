"""The CLI as a user runs it: a subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video

KEY = "sk-mavi-CLITESTKEY0123456789abcdef"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAVI_API_KEY": KEY, "XDG_STATE_HOME": str(cwd or Path.cwd())}
    return subprocess.run([sys.executable, "-m", "mavi_sync", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_inspect_json_shows_every_target(tmp_path: Path) -> None:
    photo = write_image(tmp_path / "p.jpg", ImageSpec(make="Canon", model="Canon EOS 5D",
                                                      taken="2025:10:20 11:00:00", gps=(10.0, 20.0)))
    clip = write_video(tmp_path / "c.mp4", VideoSpec(creation_time="2025-10-20T09:00:00.000000Z"))
    text = tmp_path / "t.mp4"
    text.write_text("hello")
    result = run("inspect", "--json", str(photo), str(clip), str(text))
    assert result.returncode == 0, result.stderr
    p, c, t = json.loads(result.stdout)
    assert p["chosen_target"] == "image" and p["accepted"]
    assert p["targets"]["image"]["fields"]["camera_model"] == "Canon EOS 5D"
    assert p["targets"]["image"]["fields"]["datetime_taken"] == "2025-10-20 11:00:00"
    assert p["targets"]["video"]["accepted"] is False
    assert c["chosen_target"] == "video" and c["targets"]["video"]["content_type"] == "video/mp4"
    assert c["targets"]["video"]["fields"]["tags"] == [f"sha256:{c['sha256']}"]
    assert t["accepted"] is False and "text file" in t["refusal"]
    assert KEY not in result.stdout + result.stderr


def test_inspect_text_with_config_uses_the_folder(tmp_path: Path) -> None:
    cams = tmp_path / "cams"
    clip = write_video(cams / "front" / "ch01_20251020_110000.mp4", VideoSpec())
    config = tmp_path / "c.toml"
    config.write_text(f'[[folders]]\npath = "{cams}"\ntimezone = "UTC"\ntag_templates = ["{{rel_dir}}"]\n'
                      'camera_model = "Door"\n')
    result = run("inspect", "--config", str(config), str(clip))
    assert result.returncode == 0, result.stderr
    assert "taken       2025-10-20 11:00:00 +00:00 (filename" in result.stdout
    assert '"front"' in result.stdout and "camera_model = Door" in result.stdout


def test_scan_dry_run_lists_and_summarises(tmp_path: Path) -> None:
    cams = tmp_path / "cams"
    write_image(cams / "a.jpg", ImageSpec())
    (cams / "b.mp4").write_text("oops")
    config = tmp_path / "c.toml"
    config.write_text(f'[[folders]]\npath = "{cams}"\n[ledger]\npath = "{tmp_path / "l.sqlite3"}"\n')
    result = run("scan", "--dry-run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "upload     image" in result.stdout and "refused" in result.stdout
    assert result.stdout.strip().endswith("summary: 1 upload, 0 known, 0 duplicate, 1 refused, 0 skipped")
    assert not (tmp_path / "l.sqlite3").exists(), "a dry run must not create the ledger"
    rows = json.loads(run("scan", "--dry-run", "--json", "--config", str(config)).stdout)
    assert {r["status"] for r in rows} == {"upload", "refused"}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("scan", "--config", str(tmp_path / "x.toml")).returncode == 2  # --dry-run is required
    assert run("frobnicate").returncode == 2


def test_every_option_of_every_command_has_help_text() -> None:
    """Issue 16: `mavi-sync COMMAND --help` explains every option and argument."""
    import argparse

    from mavi_sync.commands.parser import _parser

    parser = _parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [f"{name} {action.dest}" for name, command in sub.choices.items() for action in command._actions
               if not action.help and not isinstance(action, argparse._HelpAction)]
    missing += [a.dest for a in parser._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
    assert missing == [], missing


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    """`mavi-sync inspect … | head`: no BrokenPipeError traceback, a clean exit."""
    import subprocess
    import sys

    from mavi_sync.dev.samples import ImageSpec, write_image

    photo = write_image(tmp_path / "a.jpg", ImageSpec(make="Canon"))
    proc = subprocess.Popen([sys.executable, "-m", "mavi_sync", "inspect", *[str(photo)] * 300],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == str(photo).encode()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(60) == 0 and err == "", err
