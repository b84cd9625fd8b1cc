"""`mavi-sync inspect`: what each file is and what an upload would send, from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.commands.cli import OFFLINE_KEY, run_offline


def test_inspect_json_shows_every_target(tmp_path: Path) -> None:
    photo = write_image(tmp_path / "p.jpg", ImageSpec(make="Canon", model="Canon EOS 5D",
                                                      taken="2025:10:20 11:00:00", gps=(10.0, 20.0)))
    clip = write_video(tmp_path / "c.mp4", VideoSpec(creation_time="2025-10-20T09:00:00.000000Z"))
    text = tmp_path / "t.mp4"
    text.write_text("hello")
    result = run_offline("inspect", "--json", str(photo), str(clip), str(text))
    assert result.returncode == 0, result.stderr
    p, c, t = json.loads(result.stdout)
    assert p["chosen_target"] == "image" and p["accepted"]
    assert p["targets"]["image"]["fields"]["camera_model"] == "Canon EOS 5D"
    assert p["targets"]["image"]["fields"]["datetime_taken"] == "2025-10-20 11:00:00"
    assert p["targets"]["video"]["accepted"] is False
    assert c["chosen_target"] == "video" and c["targets"]["video"]["content_type"] == "video/mp4"
    assert c["targets"]["video"]["fields"]["tags"] == [f"sha256:{c['sha256']}"]
    assert t["accepted"] is False and "text file" in t["refusal"]
    assert OFFLINE_KEY not in result.stdout + result.stderr



def test_inspect_text_with_config_uses_the_folder(tmp_path: Path) -> None:
    cams = tmp_path / "cams"
    clip = write_video(cams / "front" / "ch01_20251020_110000.mp4", VideoSpec())
    config = tmp_path / "c.toml"
    config.write_text(f'[[folders]]\npath = "{cams}"\ntimezone = "UTC"\ntag_templates = ["{{rel_dir}}"]\n'
                      'camera_model = "Door"\n')
    result = run_offline("inspect", "--config", str(config), str(clip))
    assert result.returncode == 0, result.stderr
    assert "taken       2025-10-20 11:00:00 +00:00 (filename" in result.stdout
    assert '"front"' in result.stdout and "camera_model = Door" in result.stdout



def test_inspect_of_a_file_that_does_not_exist_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """Found by a new user's trial: it printed a plan dated 1970 and exited 0."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "mavi_sync", "inspect", str(tmp_path / "nope.jpg")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "not a file" in out.stderr and "Traceback" not in out.stderr, out.stderr
