"""The emulator over HTTP: documented answers, life cycles, persistence, faults, concurrency."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer
from tests.conftest import API_KEY, SECURITY_KEY, fast_timing, run_in_threads

H = {"Authorization": API_KEY}


def post_video(url: str, data: bytes = b"\0" * 1000, name: str = "a.mp4", ctype: str = "video/mp4",
               headers: dict[str, str] = H, **fields: Any) -> dict[str, Any]:
    answer = requests.post(url + "/serve/api/v1/upload", headers=headers, files={"file": (name, data, ctype)},
                           data=fields, timeout=10)
    assert answer.status_code == 200, answer.text  # v1 answers every business outcome with HTTP 200
    return dict(answer.json())


def test_v1_answers_carry_business_codes_at_http_200(emulator) -> None:
    assert post_video(emulator.url)["code"] == "0000"
    assert post_video(emulator.url, headers={"Authorization": "sk-wrong"})["code"] == "0401"
    assert post_video(emulator.url, headers={})["code"] == "0401"
    assert post_video(emulator.url, headers={"Authorization": "Bearer " + API_KEY})["code"] == "0401"
    bad = post_video(emulator.url, datetime_taken="yesterday")
    assert bad["code"] == "0003" and "datetime_taken" in bad["msg"] and bad["success"] is False


def test_curl_style_indexed_tags_are_stored_with_api_appended(emulator, admin) -> None:
    post_video(emulator.url, **{"tags[0]": "one", "tags[1]": "two"})
    assert admin.uploads("video")[0]["tags"] == ["one", "two", "api"]


def test_the_video_life_cycle_and_visibility(tmp_path: Path) -> None:
    from dataclasses import replace
    timing = replace(fast_timing(), visible_delay_s=0.2, parse_delay_s=0.5)
    with EmulatorServer(tmp_path / "e", Settings(api_key=API_KEY, timing=timing)) as server:
        video_no = post_video(server.url, unique_id="cam")["data"]["videoNo"]

        def status(namespace: str = "cam") -> Any:
            answer = requests.get(server.url + "/serve/api/v1/get_metadata", headers=H, timeout=5,
                                  params={"video_no": video_no, "unique_id": namespace}).json()
            return answer["data"] and answer["data"]["status"]

        assert status() is None  # data: null while not visible
        time.sleep(0.25)
        assert status() == "UNPARSE" and status("default") is None  # another namespace does not see it
        time.sleep(0.35)
        assert status() == "PARSE"


def test_list_videos_filters_and_pages(emulator) -> None:
    for i in range(5):
        post_video(emulator.url, data=bytes([i]) * 10, tags=["even" if i % 2 == 0 else "odd"], unique_id="ns")
    def listing(**query: Any) -> Any:
        return requests.post(emulator.url + "/serve/api/v1/list_videos", headers=H, json=query, timeout=5).json()["data"]
    assert listing(unique_id="ns")["total_count"] == 5
    assert listing(unique_id="ns", tag="even")["total_count"] == 3
    assert listing(unique_id="other")["total_count"] == 0
    page = listing(unique_id="ns", page=2, size=2)
    assert page["current_page"] == 2 and len(page["videos"]) == 2 and page["total_count"] == 5
    bad = requests.post(emulator.url + "/serve/api/v1/list_videos", headers=H, json={"page": 0}, timeout=5).json()
    assert bad["code"] == "0001"


def test_v2_codes_equal_the_http_status(emulator) -> None:
    ok = requests.post(emulator.url + "/serve/api/v2/upload", headers=H, files={"file": ("a.wav", b"RIFF")}, timeout=5)
    assert ok.status_code == 200 and ok.json()["code"] == 200 and ok.json()["data"]["asset_id"].startswith("re_")
    bad = requests.post(emulator.url + "/serve/api/v2/upload", headers={"Authorization": "x"},
                        files={"file": ("a.wav", b"RIFF")}, timeout=5)
    assert bad.status_code == 401 and bad.json()["code"] == 401
    missing = requests.post(emulator.url + "/serve/api/v2/upload", headers=H, files={"other": ("a.wav", b"x")},
                            timeout=5)
    assert missing.status_code == 400 and missing.json()["msg"] == "Request has exceeded the limit."


def test_signed_urls_refuse_a_key_expire_and_complete_the_asset(tmp_path: Path) -> None:
    from dataclasses import replace
    settings = Settings(api_key=API_KEY, timing=replace(fast_timing(), signed_url_ttl_s=0.3))
    with EmulatorServer(tmp_path / "e", settings) as server:
        def signed() -> dict[str, Any]:
            answer = requests.post(server.url + "/serve/api/v2/upload/signed-url", headers=H,
                                   json={"original_filename": "big.mp4"}, timeout=5).json()
            return dict(answer["data"])
        first = signed()
        assert first["expires_in"] == 0 and first["signed_url"].startswith(server.url + "/_storage/")
        with_key = requests.post(first["signed_url"], headers=H, files={"file": ("big.mp4", b"x")}, timeout=5)
        assert with_key.status_code == 400
        time.sleep(0.35)
        late = requests.post(first["signed_url"], files={"file": ("big.mp4", b"x")}, timeout=5)
        assert late.status_code == 403
        second = signed()
        assert requests.post(second["signed_url"], files={"file": ("big.mp4", b"x" * 10)}, timeout=5).status_code == 204
        meta = requests.get(server.url + f"/serve/api/v2/{second['asset_id']}/metadata", headers=H, timeout=5).json()
        assert meta["data"]["resource"][0]["upload_status"] in ("WAITING", "UPLOADING", "SUCCESS")
        unknown = requests.get(server.url + "/serve/api/v2/re_1/metadata", headers=H, timeout=5).json()
        assert unknown["code"] == 200 and unknown["data"] is None


def test_uploads_survive_an_emulator_restart(tmp_path: Path) -> None:
    settings = Settings(api_key=API_KEY)
    with EmulatorServer(tmp_path / "e", settings) as server:
        video_no = post_video(server.url, tags=["keep"])["data"]["videoNo"]
    with EmulatorServer(tmp_path / "e", settings) as server:
        [video] = Admin(server.url).uploads("video")
        assert video["id"] == video_no and video["tags"] == ["keep", "api"]
        assert Path(video["blob"]).read_bytes() == b"\0" * 1000


def test_bytes_can_be_hashed_without_being_kept(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path / "e", Settings(api_key=API_KEY, keep_bytes=False)) as server:
        data = os.urandom(3 << 20)
        post_video(server.url, data=data)
        [video] = Admin(server.url).uploads("video")
    assert video["blob"] is None and video["sha256"] == hashlib.sha256(data).hexdigest()
    assert [p.name for p in (tmp_path / "e" / "blobs").iterdir()] == []


def test_faults_change_at_run_time_and_bad_ones_are_refused(emulator, admin) -> None:
    assert admin.faults(no_credits=True)["no_credits"] is True
    assert post_video(emulator.url)["code"] == "0402"
    admin.faults(no_credits=False, disabled=True)
    assert post_video(emulator.url)["code"] == "0403"
    with pytest.raises(ValueError, match="unknown fault"):
        admin.faults(no_such_fault=1)
    with pytest.raises(ValueError, match="must be true or false"):
        admin.faults(bad_key="yes")
    with pytest.raises(ValueError, match="unknown action"):
        admin.script({"path": "/", "action": "explode"})


def test_the_rate_limit_answers_0429_and_429(emulator, admin) -> None:
    admin.faults(rate_limit_per_minute=60, rate_limit_burst=1)
    assert post_video(emulator.url)["code"] == "0000"
    limited = post_video(emulator.url)
    assert limited["code"] == "0429" and limited["msg"] == "Request has exceeded the limit."
    admin.faults(retry_after_s=7)
    v2 = requests.post(emulator.url + "/serve/api/v2/upload", headers=H, files={"file": ("a.wav", b"x")}, timeout=5)
    assert v2.status_code == 429 and v2.headers["Retry-After"] == "7"


def test_a_dropped_connection_reaches_the_client_as_a_reset(emulator, admin) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "drop"})
    with pytest.raises(requests.ConnectionError):
        post_video(emulator.url, data=os.urandom(4 << 20))
    assert admin.uploads("video") == [] and admin.stats()["answers"]["dropped"] == 1
    assert post_video(emulator.url)["code"] == "0000"  # the server itself is fine


def test_a_hung_upload_is_stored_but_never_answered(emulator, admin) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "hang"})
    with pytest.raises(requests.ReadTimeout):
        requests.post(emulator.url + "/serve/api/v1/upload", headers=H, files={"file": ("a.mp4", b"1", "video/mp4")},
                      timeout=(2, 0.5))
    [video] = admin.uploads("video")
    assert video["answered"] is False


def test_security_answers_with_either_success_code(tmp_path: Path) -> None:
    for code in (0, "0000"):
        settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY, security_success_code=code,
                            timing=fast_timing())
        with EmulatorServer(tmp_path / f"e{code}", settings) as server:
            answer = requests.post(server.url + "/v1/understand/uploadFileSync", headers={"Authorization": SECURITY_KEY},
                                   files=[("req", ("req.json", '{"user_prompt":"u","system_prompt":"s"}',
                                                   "application/json")),
                                          ("files", ("a.mp4", b"v", "video/mp4"))], timeout=5).json()
            assert answer["code"] == code and answer["data"]["data"]["text"]
            wrong_key = requests.post(server.url + "/v1/understand/uploadFileSync", headers=H,
                                      files=[("files", ("a.mp4", b"v", "video/mp4"))], timeout=5).json()
            assert wrong_key["code"] == "0401"


def test_video_callbacks_are_posted_when_parsed(emulator, admin) -> None:
    post_video(emulator.url, callback=emulator.url + "/_admin/callback-sink")
    deadline = time.monotonic() + 5
    while not admin.stats()["callbacks"] and time.monotonic() < deadline:
        time.sleep(0.05)
    [callback] = admin.stats()["callbacks"]
    assert callback["payload"]["status"] == "PARSE" and callback["result"] == "HTTP 200"


def test_concurrent_large_uploads_arrive_intact(emulator, admin) -> None:
    blobs = [os.urandom(8 << 20) for _ in range(4)]
    errors = run_in_threads(lambda b: post_video(emulator.url, data=b), blobs)  # type: ignore[arg-type]
    assert errors == []
    assert sorted(u["sha256"] for u in admin.uploads("video")) == sorted(hashlib.sha256(b).hexdigest() for b in blobs)
    assert admin.stats()["max_in_flight"] >= 2


def test_the_request_log_never_holds_the_key(emulator, admin) -> None:
    post_video(emulator.url)
    assert API_KEY not in str(admin.stats()) and admin.stats()["log"][0]["has_authorization"] is True
