"""Phones' photos through the daemon: a HEIC (or AVIF) photo reaches memories.ai as a JPEG
that says what the original says, made in the probe helper, sent from the staging area,
keyed in the ledger by the original's hash; the original is archived only once confirmed."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.emulator.admin import Admin
from mavi_sync.media.probe import probe
from tests.e2e.rig import CLI, sha, until
from tests.media.test_convert import FULL, P3ISH, same_picture, shown


@pytest.mark.parametrize("ext", [".heic", ".avif"])
def test_a_phone_photo_lands_as_a_jpeg_with_its_metadata_and_is_archived_after(
        spawn, emulator, admin: Admin, tmp_path: Path, ext: str) -> None:
    d = spawn(emulator.url, after_upload="archive", archive_dir=str(tmp_path / "archive"))
    original = write_image(tmp_path / f"IMG_0001{ext}", FULL)
    expected = json.loads(subprocess.run([*CLI, "inspect", "--json", "--config", str(d.config), str(original)],
                                         capture_output=True, text=True, timeout=60, check=True).stdout)[0]
    d.start()
    staged = d.camera / original.name
    staged.write_bytes(original.read_bytes())
    until(lambda: d.count("confirmed") == 1, 30)
    [upload] = admin.uploads("image")
    received = Path(upload["blob"])
    assert upload["filename"] == "IMG_0001.jpg" and upload["content_type"] == "image/jpeg"
    info = probe(received)
    assert info.kind is not None and info.kind.format == "jpeg" and info.refusal is None
    assert (info.taken, info.camera_model, info.position, info.keywords) == \
        (probe(original).taken, probe(original).camera_model, probe(original).position, probe(original).keywords)
    with Image.open(received) as jpeg:
        assert jpeg.info.get("icc_profile") == P3ISH and jpeg.getexif().get(0x0112) == 1
    assert same_picture(shown(received), shown(original))
    fields = expected["targets"]["image"]["fields"]  # what `inspect` said would be sent
    assert {k: v for k, v in upload["fields"].items() if k != "tags"} == \
        {k: [v] for k, v in fields.items() if k != "tags"}
    assert upload["fields"]["tags"] == fields["tags"]
    [row] = d.ledger_rows("--state", "confirmed")
    assert row["sha256"] == sha(original) and row["sent_sha256"] == upload["sha256"] == sha(received)
    archived = tmp_path / "archive" / original.name
    until(lambda: archived.exists(), 10)
    assert not staged.exists() and hashlib.sha256(archived.read_bytes()).hexdigest() == sha(original)
    assert list((d.root / "staging").iterdir()) == []  # the JPEG went once sent
    assert d.stop() == 0


def test_a_folder_that_refuses_heic_refuses_it_with_the_setting_named(spawn, emulator, admin: Admin,
                                                                      tmp_path: Path) -> None:
    d = spawn(emulator.url, target="image", to_jpeg=[])
    d.start()
    write_image(d.camera / "IMG_0002.heic", FULL)
    until(lambda: d.count("rejected") == 1, 30)
    [row] = d.ledger_rows()
    assert "HEIF is not accepted" in row["error"] and 'to_jpeg = ["heif"]' in row["error"]
    assert admin.uploads() == []
    assert d.stop() == 0


def test_a_photo_that_cannot_be_converted_is_refused_with_a_reason_and_left_alone(
        spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    """It probes as a HEIF (its header is sound) but its image data cannot be decoded."""
    d = spawn(emulator.url, incomplete_grace_s=0)
    d.start()
    good = write_image(tmp_path / "x.heic", ImageSpec(size=(64, 48)))
    data = bytearray(good.read_bytes())
    data[-40:] = b"\xff" * 40  # the coded image damaged, the boxes intact
    bad = d.camera / "broken.heic"
    bad.write_bytes(bytes(data))
    until(lambda: d.count("rejected") == 1, 30)
    [row] = d.ledger_rows()
    assert "cannot be converted to JPEG" in row["error"] and bad.read_bytes() == bytes(data)
    assert admin.uploads() == []
    assert d.stop() == 0
