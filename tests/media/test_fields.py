"""Metadata + folder settings → the fields each endpoint gets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePath
from zoneinfo import ZoneInfo

from mavi_sync.config.schema import FolderConfig, Person, SecurityConfig
from mavi_sync.media.capture import resolve_capture
from mavi_sync.media.fields import build_fields, sha_tag
from mavi_sync.media.model import MediaInfo, Taken
from mavi_sync.media.sniff import kind_by_name

SHA = "a" * 64
WHEN = datetime(2025, 10, 20, 11, 0, tzinfo=timezone(timedelta(hours=2)))


def info(fmt: str = "mp4", **kw) -> MediaInfo:
    base = dict(path="x", size=10, kind=kind_by_name(fmt), taken=Taken(WHEN, "exif"), make="Canon",
                model="Canon EOS 5D", position=(52.52, 13.405), keywords=("beach",))
    base.update(kw)
    return MediaInfo(**base)


def fields(media: MediaInfo, folder: FolderConfig, target: str, rel: str = "garden/cam1/x.mp4", **kw):
    capture = resolve_capture(media.taken, "x.mp4", 0, folder.timezone)
    return build_fields(media, PurePath(rel), folder, capture, target, sha256=SHA, **kw)


def test_video_fields_only_with_values() -> None:
    folder = FolderConfig(path=Path("/srv/cams"), tags=("nvr",), tag_templates=("{rel_dir}", "cam:{dir}", "{year}"),
                          unique_id="home", video_transcription_prompt="who is there", folder_id=7)
    form = fields(info(), folder, "video").form
    assert form == {
        "unique_id": "home", "datetime_taken": "2025-10-20 11:00:00", "camera_model": "Canon EOS 5D",
        "latitude": "52.5200000", "longitude": "13.4050000",
        "tags": [sha_tag(SHA), "nvr", "garden/cam1", "cam:cam1", "2025", "beach"],
        "retain_original_video": "true", "video_transcription_prompt": "who is there", "folder_id": "7",
    }


def test_missing_metadata_is_not_sent_and_folder_overrides_fill_in() -> None:
    bare = info(make=None, model=None, position=None, keywords=())
    form = fields(bare, FolderConfig(path=Path("/c")), "image").form
    assert set(form) == {"unique_id", "datetime_taken"}
    fixed = FolderConfig(path=Path("/c"), camera_model="Door cam", latitude=1.5, longitude=2.5)
    form = fields(bare, fixed, "image").form
    assert (form["camera_model"], form["latitude"], form["longitude"]) == ("Door cam", "1.5000000", "2.5000000")


def test_embedded_metadata_beats_the_folder_fallback() -> None:
    fixed = FolderConfig(path=Path("/c"), camera_model="Door cam", latitude=1.5, longitude=2.5)
    form = fields(info(), fixed, "image").form
    assert form["camera_model"] == "Canon EOS 5D" and form["latitude"] == "52.5200000"


def test_utc_mode() -> None:
    folder = FolderConfig(path=Path("/c"), datetime_mode="utc", timezone=ZoneInfo("Europe/Berlin"))
    assert fields(info(), folder, "image").form["datetime_taken"] == "2025-10-20 09:00:00"


def test_tag_limits_keep_the_sha_tag_and_say_what_was_dropped() -> None:
    folder = FolderConfig(path=Path("/c"), tags=tuple(f"t{i}" for i in range(30)))
    video = fields(info(keywords=()), folder, "video")
    assert len(video.form["tags"]) == 20 and video.form["tags"][0] == sha_tag(SHA)
    assert any("11 dropped" in n for n in video.notes)
    image = fields(info(keywords=()), folder, "image")
    assert len(image.form["tags"]) == 30 and sha_tag(SHA) not in image.form["tags"]
    no_sha = fields(info(keywords=()), folder, "video", with_sha_tag=False)
    assert sha_tag(SHA) not in no_sha.form["tags"] and len(no_sha.form["tags"]) == 20


def test_long_tags_and_models_are_cut_with_a_note() -> None:
    long = info(model="M" * 250, make=None, keywords=("k" * 150,))
    result = fields(long, FolderConfig(path=Path("/c")), "image")
    assert len(result.form["camera_model"]) == 200
    assert "tags" not in result.form
    assert len(result.notes) == 2


def test_security_request_and_asset() -> None:
    folder = FolderConfig(path=Path("/c"), security=SecurityConfig(
        mode="async", callback="https://example.org/cb", reasoning_effort="3", persons=(Person("Al", "https://e/a"),)))
    req = fields(info(), folder, "security").form["req"]
    assert req == {"user_prompt": folder.security.user_prompt, "system_prompt": folder.security.system_prompt,
                   "thinking": False, "qa": False, "callback": "https://example.org/cb", "reasoning_effort": "3",
                   "persons": [{"name": "Al", "url": "https://e/a"}]}
    assert fields(info(), folder, "asset").form == {}
