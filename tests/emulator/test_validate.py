"""The emulator's documented checks, as pure functions."""

from __future__ import annotations

import json

import pytest

from mavi_sync.emulator.validate import (
    Limits,
    Upload,
    asset_refusal,
    image_refusal,
    security_file_refusal,
    security_request,
    tags_of,
    video_refusal,
)

VIDEO = Upload("file", "a.mp4", "video/mp4", 1000)
LIMITS = Limits()


def test_tags_are_read_in_both_spellings() -> None:
    assert tags_of({"tags": ["a", "b"]}) == ["a", "b"]
    assert tags_of({"tags[1]": ["y"], "tags[0]": ["x"], "tags[10]": ["z"]}) == ["x", "y", "z"]


@pytest.mark.parametrize("fields,files,message", [
    ({}, [], "exactly one file part"),
    ({}, [Upload("file", "a.wmv", "video/x-ms-wmv", 1)], "extension"),
    ({}, [Upload("file", "a.MP4", "application/octet-stream", 1)], "must start with video/"),
    ({}, [Upload("file", "a.mp4", "video/mp4", 3 * 10**9 + 1)], "byte limit"),
    ({"datetime_taken": ["2024-01-01T10:00:00"]}, [VIDEO], "datetime_taken"),
    ({"datetime_taken": ["2024-02-30 10:00:00"]}, [VIDEO], "datetime_taken"),
    ({"camera_model": ["x" * 201]}, [VIDEO], "camera_model"),
    ({"latitude": ["91"]}, [VIDEO], "latitude"),
    ({"longitude": ["east"]}, [VIDEO], "longitude"),
    ({"tags": [str(i) for i in range(21)]}, [VIDEO], "21 tags"),
    ({"callback": ["ftp://x"]}, [VIDEO], "callback"),
    ({"retain_original_video": ["yes"]}, [VIDEO], "retain_original_video"),
    ({"folder_id": ["0"]}, [VIDEO], "folder_id"),
])
def test_video_refusals(fields: dict[str, list[str]], files: list[Upload], message: str) -> None:
    refusal = video_refusal(fields, files, LIMITS)
    assert refusal is not None and message in refusal.message and refusal.code in ("0001", "0003")


def test_a_complete_video_request_passes() -> None:
    fields = {"unique_id": ["cam"], "datetime_taken": ["2025-10-20 11:00:00"], "camera_model": ["Canon"],
              "latitude": ["-33.5"], "longitude": ["151.2"], "tags": [str(i) for i in range(20)],
              "callback": ["https://x.org/cb"], "retain_original_video": ["false"], "folder_id": ["-1"]}
    assert video_refusal(fields, [VIDEO], LIMITS) is None


def test_one_bad_image_refuses_the_batch() -> None:
    good = Upload("files", "a.JPG", "image/jpeg", 10)
    assert image_refusal({}, [good, good], LIMITS) is None
    assert image_refusal({}, [good, Upload("files", "b.heic", "image/heic", 10)], LIMITS) is not None
    assert image_refusal({}, [good, Upload("files", "b.png", "video/png", 10)], LIMITS) is not None
    assert image_refusal({}, [good] * 21, LIMITS) is not None
    assert image_refusal({"tags": ["t"] * 51}, [good], LIMITS) is not None
    assert image_refusal({}, [], LIMITS) is not None


def test_security_request_checks() -> None:
    ok = json.dumps({"user_prompt": "u", "system_prompt": "s", "callback": "https://x/cb", "reasoning_effort": "2"})
    assert security_request(ok, "application/json", True, LIMITS)[1] is None
    no_cb = json.dumps({"user_prompt": "u", "system_prompt": "s"})
    assert security_request(no_cb, "application/json", False, LIMITS)[1] is None
    assert "callback" in security_request(no_cb, "application/json", True, LIMITS)[1].message  # type: ignore[union-attr]
    assert security_request(ok, "text/plain", True, LIMITS)[1] is not None
    assert security_request("{", "application/json", True, LIMITS)[1] is not None
    assert security_request(None, "", True, LIMITS)[1] is not None
    bad_effort = json.dumps({"user_prompt": "u", "system_prompt": "s", "reasoning_effort": 2})
    assert security_request(bad_effort, "application/json", False, LIMITS)[1] is not None
    persons = json.dumps({"user_prompt": "u", "system_prompt": "s", "persons": [{}] * 6})
    assert security_request(persons, "application/json", False, LIMITS)[1] is not None
    assert security_file_refusal([Upload("files", "a.mp4", "video/mp4", 1)], LIMITS) is None
    assert security_file_refusal([Upload("files", "a.mp4", "image/jpeg", 1)], LIMITS) is not None


def test_asset_refusals_use_v2_statuses() -> None:
    assert asset_refusal([Upload("file", "a.flac", "audio/flac", 1)], 10) is None
    assert asset_refusal([Upload("file", "a.exe", "application/x", 1)], 10).code == "415"  # type: ignore[union-attr]
    over = asset_refusal([Upload("file", "a.mp4", "video/mp4", 11)], 10)
    assert over is not None and over.code == "400" and over.message == "Request has exceeded the limit."
