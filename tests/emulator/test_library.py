"""The emulated library over real HTTP: list_videos' filters, folders and search, with the
documented checks and error shapes (0001 a required field missing, 0003 a value out of range)."""

from __future__ import annotations

from typing import Any

import requests

from tests.conftest import API_KEY

H = {"Authorization": API_KEY}


def post(url: str, path: str, **body: Any) -> dict[str, Any]:
    return dict(requests.post(url + path, headers=H, json=body, timeout=5).json())


def form(url: str, path: str, **fields: Any) -> dict[str, Any]:
    return dict(requests.post(url + path, headers=H, data=fields, timeout=5).json())


def listed(url: str, **query: Any) -> list[str]:
    answer = post(url, "/serve/api/v1/list_videos", **query)
    assert answer["code"] == "0000", answer
    return [v["video_no"] for v in answer["data"]["videos"]]


def test_list_videos_takes_every_documented_filter(emulator, admin) -> None:
    a, b, c = admin.seed([
        {"filename": "a.mp4", "tags": ["holiday"], "camera_model": "Canon", "datetime_taken": "2024-05-01 10:00:00",
         "latitude": 39.9042, "longitude": 116.4074},
        {"filename": "b.mp4", "status": "FAILED", "datetime_taken": "2024-06-01 10:00:00"},
        {"filename": "c.mp4", "status": "UNPARSE", "namespace": "other"}])["ids"]
    url = emulator.url
    assert listed(url) == [b, a]  # newest first, namespace "default"
    assert listed(url, unique_id="other", status="UNPARSE") == [c]
    assert listed(url, status="FAILED") == [b] and listed(url, tag="holiday") == [a]
    assert listed(url, camera_model="Canon") == [a] and listed(url, video_name="b.mp4") == [b]
    assert listed(url, video_no=a) == [a] and listed(url, video_nos=[a, c]) == [a]
    assert listed(url, datetime_taken=1717200000000) == [b]  # taken at or after 2024-06-01 00:00 UTC
    assert listed(url, latitude=39.95, longitude=116.40) == [a] and listed(url, latitude=0.0, longitude=0.0) == []
    item = post(url, "/serve/api/v1/list_videos", video_no=a)["data"]["videos"][0]
    assert item["datetime_taken"] == 1714557600000 and item["latitude"] == 39.9042 and item["camera_model"] == "Canon"
    for bad, code in (({"status": "DONE"}, "0003"), ({"latitude": 1.0}, "0003"), ({"page": 0}, "0001"),
                      ({"video_nos": "VI1"}, "0003"), ({"datetime_taken": "yesterday"}, "0003")):
        answer = post(url, "/serve/api/v1/list_videos", **bad)
        assert (answer["code"], answer["success"], answer["failed"]) == (code, False, True), bad


def test_folders_are_made_renamed_moved_into_listed_and_deleted(emulator, admin) -> None:
    url = emulator.url
    [video] = admin.seed([{"filename": "a.mp4"}])["ids"]
    made = form(url, "/serve/api/v1/folders/create", name="trips")["data"]
    assert made["folder_name"] == "trips" and made["folder_id"] > 0
    folder = made["folder_id"]
    assert form(url, "/serve/api/v1/folders/create", name="trips")["code"] == "0003"  # unique within the account
    assert form(url, "/serve/api/v1/folders/create")["code"] == "0001"
    assert form(url, "/serve/api/v1/folders/create", name="x" * 101)["code"] == "0003"
    listing = requests.get(url + "/serve/api/v1/folders", headers=H, timeout=5).json()["data"]["folders"]
    assert {"folder_id": folder, "folder_name": "trips"} in listing and {"folder_id": -1, "folder_name": "Default"} in listing
    assert post(url, "/serve/api/v1/folders/move", folder_id=folder, video_nos=[video])["code"] == "0000"
    assert post(url, "/serve/api/v1/folders/move", folder_id=123, video_nos=[video])["code"] == "0003"
    assert post(url, "/serve/api/v1/folders/move", folder_id=folder, video_nos=["VI1"] * 501)["code"] == "0003"
    assert post(url, "/serve/api/v1/folders/move", folder_id=folder)["code"] == "0001"
    inside = requests.get(url + "/serve/api/v1/folders/videos", headers=H, timeout=5,
                          params={"folder_id": folder, "page": 1, "page_size": 10}).json()["data"]
    assert [v["video_no"] for v in inside["videos"]] == [video] and listed(url, folder_id=folder) == [video]
    assert form(url, "/serve/api/v1/folders/rename", folder_id=folder, new_name="holidays")["data"]["folder_name"] \
        == "holidays"
    assert form(url, "/serve/api/v1/folders/delete", folder_id=folder)["code"] == "0003"  # it holds a parsed video
    post(url, "/serve/api/v1/folders/move", folder_id=-1, video_nos=[video])
    assert form(url, "/serve/api/v1/folders/delete", folder_id=folder)["code"] == "0000"


def test_an_upload_into_a_folder_not_of_the_account_is_refused(emulator) -> None:
    files = {"file": ("a.mp4", b"\0" * 10, "video/mp4")}
    answer = requests.post(emulator.url + "/serve/api/v1/upload", headers=H, files=files, data={"folder_id": "77"},
                           timeout=5).json()
    assert answer["code"] == "0003" and "folder_id 77" in answer["msg"]


def test_search_is_deterministic_and_shaped_per_type(emulator, admin) -> None:
    url = emulator.url
    a, b, pending = admin.seed([{"filename": "gate.mp4", "tags": ["front"]}, {"filename": "yard.mp4"},
                                {"filename": "gate2.mp4", "status": "UNPARSE"}])["ids"]
    admin.segments(a, {"start": 13, "end": 18, "text": "a delivery van at the gate"},
                   {"start": 40, "end": 44, "text": "hello is anyone home", "kind": "audio"})
    admin.segments(b, {"start": 2, "end": 3, "text": "a van"})
    clip = post(url, "/serve/api/v1/search", search_param="delivery van")["data"]
    assert [(h["videoNo"], h["startTime"], h["endTime"], h["score"]) for h in clip] == [(a, "13", "18", 1.0),
                                                                                       (b, "2", "3", 0.5)]
    assert pending not in {h["videoNo"] for h in post(url, "/serve/api/v1/search", search_param="gate")["data"]}
    assert [h["videoNo"] for h in post(url, "/serve/api/v1/search", search_param="delivery van",
                                       filtering_level="high", video_nos=[b])["data"]] == [b]
    [audio] = post(url, "/serve/api/v1/search", search_param="anyone home", search_type="BY_AUDIO")["data"]
    assert audio["audio_ts"] == "hello is anyone home" and audio["startTime"] == "40"
    [caption] = post(url, "/serve/api/v1/search", search_param="anyone home", search_type="BY_CAPTION")["data"]
    assert caption["video_no"] == a and caption["start_time"] == 40.0 and caption["text"] == "hello is anyone home"
    image = post(url, "/serve/api/v1/search", search_param="x", search_type="BY_IMAGE")["data"]
    assert image == {"current_page": 0, "page_size": 100, "total_count": 0, "item": []}
    for bad, code in (({"search_param": ""}, "0001"), ({}, "0001"), ({"search_param": "x", "search_type": "BY_X"}, "0003"),
                      ({"search_param": "x", "search_type": "BY_CAPTION", "top_k": 201}, "0003"),
                      ({"search_param": "x", "top_k": 0}, "0003"), ({"search_param": "x", "video_nos": ["a"] * 101}, "0003"),
                      ({"search_param": "x", "latitude": 1.0}, "0003")):
        assert post(url, "/serve/api/v1/search", **bad)["code"] == code, bad
