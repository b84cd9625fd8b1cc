"""Phones' photos through the daemon: a HEIC (or AVIF) photo reaches memories.ai as a JPEG
that says what the original says, made in the probe helper, sent from the staging area,
keyed in the ledger by the original's hash; the original is archived only once confirmed."""

from __future__ import annotations

import hashlib
import signal
import time
import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_motion_photo, write_video
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
    assert d.proc is not None
    maps = Path(f"/proc/{d.proc.pid}/maps").read_text()
    assert "_imaging" not in maps and "heif" not in maps  # made in the probe helper, not the daemon
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


def live_photo(folder: Path, stem: str, *, clip_offset_s: float = -1) -> tuple[Path, Path]:
    """An iPhone Live Photo: the HEIC still and its MOV, the clip starting before the shutter."""
    from datetime import datetime, timedelta
    shutter = datetime(2024, 5, 1, 10, 0, 0)
    clip = shutter + timedelta(seconds=clip_offset_s)
    still = write_image(folder / f"{stem}.HEIC", ImageSpec(make="Apple", model="iPhone 13", offset="+02:00",
                                                            taken=shutter.strftime("%Y:%m:%d %H:%M:%S")))
    motion = write_video(folder / f"{stem}.MOV", VideoSpec(seconds=1, make="Apple", model="iPhone 13",
                                                            apple_creationdate=clip.strftime("%Y-%m-%dT%H:%M:%S+0200")))
    return still, motion


@pytest.mark.parametrize("policy", ["still", "both", "video"])
def test_live_photos_send_what_the_folder_chooses(spawn, emulator, admin: Admin, tmp_path: Path, policy: str) -> None:
    d = spawn(emulator.url, live_photos=policy)
    still, motion = live_photo(d.camera, "IMG_0001")
    _lone_still, lone_clip = live_photo(d.camera, "IMG_0002", clip_offset_s=-30)  # same names, not taken together
    (d.camera / "IMG_0002.HEIC").unlink()
    plan = subprocess.run([*CLI, "scan", "--dry-run", "--json", "--config", str(d.config)], capture_output=True,
                          text=True, timeout=60, check=True)
    scan = {Path(e["path"]).name: e for e in json.loads(plan.stdout)}
    d.start()
    until(lambda: d.count("confirmed") + d.count("uploaded") == (3 if policy == "both" else 2), 30)
    time.sleep(1.5)
    images, videos = admin.uploads("image"), admin.uploads("video")
    sent = {u["filename"] for u in images + videos}
    expected = {"IMG_0002.MOV"} | {"still": {"IMG_0001.jpg"}, "both": {"IMG_0001.jpg", "IMG_0001.MOV"},
                                   "video": {"IMG_0001.MOV"}}[policy]
    assert sent == expected
    skipped_name = {"still": motion.name, "video": still.name}.get(policy)
    if skipped_name:
        [row] = [r for r in d.ledger_rows() if Path(r["path"]).name == skipped_name]
        assert row["state"] == "rejected" and "half of the Live Photo" in row["error"]
        assert scan[skipped_name]["status"] == "skipped" and "Live Photo" in scan[skipped_name]["detail"]
    else:
        tags = [u["tags"] for u in images + videos if u["filename"].startswith("IMG_0001")]
        shared = set(tags[0]) & set(tags[1])
        assert any(t.startswith("live:") for t in shared), tags
    assert scan[lone_clip.name]["status"] == "upload"
    assert d.stop() == 0


def test_a_half_held_back_is_sent_by_retry_after_the_setting_changes(spawn, emulator, admin: Admin,
                                                                   tmp_path: Path) -> None:
    """docs/guides/phone-folder.md, "Live Photos": after changing live_photos, `mavi-sync
    retry PATH` sends a half held back."""
    d = spawn(emulator.url, live_photos="still")
    _still, motion = live_photo(d.camera, "IMG_0003")
    d.start()
    until(lambda: d.count("confirmed") == 1 and d.count("rejected") == 1, 30)
    d.write_config(emulator.url, live_photos="both")
    assert d.proc is not None
    d.proc.send_signal(signal.SIGHUP)
    until(lambda: '"event": "config_reloaded"' in d.logs(), 10)
    retried = subprocess.run([*CLI, "retry", "--config", str(d.config), str(motion)], capture_output=True,
                             text=True, timeout=30)
    assert retried.returncode == 0, retried.stderr
    until(lambda: [u["filename"] for u in admin.uploads("video")] == ["IMG_0003.MOV"], 30)
    assert d.stop() == 0


def test_halves_with_the_same_content_identifier_pair_even_when_their_clocks_disagree(
        spawn, emulator, admin: Admin, tmp_path: Path) -> None:
    d = spawn(emulator.url)
    write_image(d.camera / "IMG_0009.HEIC", ImageSpec(make="Apple", taken="2024:05:01 10:00:00", offset="+02:00",
                                                      content_id="6F2A-LIVE"))
    write_video(d.camera / "IMG_0009.MOV", VideoSpec(seconds=1, content_id="6F2A-LIVE",
                                                     apple_creationdate="2024-05-01T10:00:40+0200"))
    d.start()
    until(lambda: d.count("confirmed") == 1 and d.count("rejected") == 1, 30)
    assert [u["filename"] for u in admin.uploads()] == ["IMG_0009.jpg"]
    assert d.stop() == 0


def test_what_a_crash_left_is_removed_at_start(spawn, emulator, tmp_path: Path) -> None:
    d = spawn(emulator.url)
    left = d.root / "staging"
    left.mkdir()
    (left / f"{'c' * 64}.jpg").write_bytes(b"half a jpeg")
    (left / f"{'d' * 64}.mp4.part").write_bytes(b"half a remux")
    d.start()
    assert list(left.iterdir()) == []
    assert d.stop() == 0


PIXEL = ImageSpec(make="Google", model="Pixel 8", taken="2024:05:01 10:00:00", offset="+02:00", gps=(48.85, 2.35))


@pytest.mark.parametrize("style,policy", [("google", "still"), ("google", "video"), ("samsung", "video"),
                                          ("microvideo", "video")])  # each layout is found: tests/media/test_motion.py
def test_a_motion_photo_sends_what_the_folder_chooses(spawn, emulator, admin: Admin, tmp_path: Path,
                                                       style: str, policy: str) -> None:
    """An Android motion photo is one JPEG with its clip appended: "still" sends the JPEG as
    it is, "video" the clip, as an MP4 with the still's capture time, camera and place."""
    d = spawn(emulator.url, live_photos=policy, after_upload="archive", archive_dir=str(tmp_path / "archive"))
    original, movie = write_motion_photo(tmp_path / "PXL_20240501_080000000.MP.jpg", PIXEL, style=style)
    plan = subprocess.run([*CLI, "scan", "--dry-run", "--json", "--config", str(d.config)], capture_output=True,
                          text=True, timeout=60, check=True)
    assert plan.stdout.strip() == "[]"  # the folder is still empty
    d.start()
    (d.camera / original.name).write_bytes(original.read_bytes())
    until(lambda: d.count("confirmed") == 1, 30)
    [upload] = admin.uploads()
    received = Path(upload["blob"]).read_bytes()
    if policy == "still":
        assert upload["kind"] == "image" and received == original.read_bytes()
        assert upload["filename"] == original.name
    else:
        assert upload["kind"] == "video" and received == movie
        assert upload["filename"] == "PXL_20240501_080000000.MP.mp4" and upload["content_type"] == "video/mp4"
        assert probe(Path(upload["blob"])).video_codec == "h264"
    assert upload["fields"]["datetime_taken"] == ["2024-05-01 10:00:00"]
    assert upload["fields"]["camera_model"] == ["Google Pixel 8"]
    assert float(upload["fields"]["latitude"][0]) == pytest.approx(48.85, abs=1e-4)
    [row] = d.ledger_rows("--state", "confirmed")
    assert row["sha256"] == sha(original)  # the photo is the identity, whatever was sent
    until(lambda: (tmp_path / "archive" / original.name).exists(), 10)
    staging = d.root / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert d.stop() == 0


def test_inspect_and_the_dry_run_show_a_motion_photo(spawn, emulator, tmp_path: Path) -> None:
    d = spawn(emulator.url, live_photos="video")
    original, movie = write_motion_photo(d.camera / "PXL_1.MP.jpg", PIXEL)
    [seen] = json.loads(subprocess.run([*CLI, "inspect", "--json", "--config", str(d.config), str(original)],
                                       capture_output=True, text=True, timeout=60, check=True).stdout)
    assert seen["motion_photo"]["size"] == len(movie) and seen["motion_photo"]["sent"] == "clip"
    assert seen["chosen_target"] == "video"
    text = subprocess.run([*CLI, "inspect", "--config", str(d.config), str(original)], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    assert "motion" in text and "the clip is sent" in text
    [entry] = json.loads(subprocess.run([*CLI, "scan", "--dry-run", "--json", "--config", str(d.config)],
                                        capture_output=True, text=True, timeout=60, check=True).stdout)
    assert entry["status"] == "upload" and "motion photo's clip" in entry["detail"]


def test_both_sends_a_motion_photos_still_and_clip_and_archives_once_both_are_held(spawn, emulator, admin: Admin,
                                                                                  tmp_path: Path) -> None:
    """live_photos = "both": the JPEG to the image library and its clip to the video index,
    sharing a `live:` tag; two ledger rows for the one file, both showing its path; the file
    is archived only once the video is confirmed too."""
    d = spawn(emulator.url, live_photos="both", after_upload="archive", archive_dir=str(tmp_path / "archive"))
    original, movie = write_motion_photo(tmp_path / "PXL_20240501_080000000.MP.jpg", PIXEL, style="google")
    d.start()
    (d.camera / original.name).write_bytes(original.read_bytes())
    until(lambda: d.count("confirmed") == 2, 40)
    [still] = admin.uploads("image")
    [clip] = admin.uploads("video")
    assert Path(still["blob"]).read_bytes() == original.read_bytes() and Path(clip["blob"]).read_bytes() == movie
    shared = {t for t in still["tags"] if t.startswith("live:")} & {t for t in clip["tags"] if t.startswith("live:")}
    assert shared, (still["tags"], clip["tags"])
    assert len(clip["tags"]) == len(set(clip["tags"])) and len(still["tags"]) == len(set(still["tags"]))
    rows = d.ledger_rows("--state", "confirmed")
    assert sorted(r["target"] for r in rows) == ["image", "video"]
    assert {r["sha256"] for r in rows} == {sha(original)}  # one file, two uploads (paths: test_ledger.py)
    archived = tmp_path / "archive" / original.name
    until(lambda: archived.exists(), 10)
    events = [e["event"] for e in map(json.loads, d.logs().splitlines()) if e.get("event") in
              ("file_archived", "remote_status_changed")]
    assert events.index("file_archived") > 0  # after the video's status came
    assert d.stop() == 0


def test_inspect_and_the_dry_run_say_both_parts_go(spawn, emulator, tmp_path: Path) -> None:
    d = spawn(emulator.url, live_photos="both")
    original, _movie = write_motion_photo(d.camera / "PXL_2.MP.jpg", PIXEL, style="samsung")
    [seen] = json.loads(subprocess.run([*CLI, "inspect", "--json", "--config", str(d.config), str(original)],
                                       capture_output=True, text=True, timeout=60, check=True).stdout)
    assert seen["motion_photo"]["sent"] == "both" and seen["chosen_target"] == "image"
    [entry] = json.loads(subprocess.run([*CLI, "scan", "--dry-run", "--json", "--config", str(d.config)],
                                        capture_output=True, text=True, timeout=60, check=True).stdout)
    assert entry["status"] == "upload" and "its clip as a video" in entry["detail"]
