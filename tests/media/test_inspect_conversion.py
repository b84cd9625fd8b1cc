"""`mavi-sync inspect` on a photo sent as a JPEG makes that JPEG as an upload would and shows
its size and quality (docs/guides/phone-folder.md, "HEIC and AVIF photos")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mavi_sync.dev.samples import ImageSpec, write_image


def test_inspect_makes_the_jpeg_an_upload_would_and_shows_its_size_and_quality(tmp_path: Path) -> None:
    heic = write_image(tmp_path / "IMG_0001.HEIC", ImageSpec(make="Apple", model="iPhone 13"))
    shown = subprocess.run([sys.executable, "-m", "mavi_sync", "inspect", "--json", str(heic)], capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout)
    made = row["converted"]
    assert made["quality"] == 90 and 0 < made["size"] < 20_000_000 and made["scale"] == 1.0
    assert list(tmp_path.iterdir()) == [heic], "the trial JPEG is not left behind"
