"""The client against the emulator over real HTTP: every target end to end, then every fault class."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import pytest

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.api.model import DONE, FAILED, RemoteStatus, UploadJob
from mavi_sync.config.parse import build_config
from mavi_sync.config.schema import Config
from mavi_sync.config.secrets import Secret
from mavi_sync.emulator.admin import Admin
from mavi_sync.errors import AmbiguousRefusal, AccountError, FileChanged, PermanentError, TransientError
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.media.fields import sha_tag
from mavi_sync.pipeline.plan import job_for, plan_file
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.conftest import API_KEY, SECURITY_KEY, api_table, fast_uploads, run_in_threads

class Followed(NamedTuple):
    status: RemoteStatus
    polls: int


def follow(check: Callable[[], RemoteStatus], seconds: float = 20) -> Followed:
    """Ask `check` every 0.05 s until the status is final (bounded): the client's side of
    following, without the ledger (the follower's loop: tests/pipeline/test_follower.py)."""
    deadline, polls = time.monotonic() + seconds, 0
    while True:
        status, polls = check(), polls + 1
        if status.state in (DONE, FAILED) or time.monotonic() > deadline:
            return Followed(status, polls)
        time.sleep(0.05)


def make_config(url: str, folder: Path, uploads: dict[str, Any] | None = None, **folder_keys: Any) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    table = {"path": str(folder), "tags": ["cam"], "timezone": "Europe/Berlin", **folder_keys}
    return build_config({"api": api_table(url), "uploads": uploads or fast_uploads(), "folders": [table]})


def keys() -> KeyRing:
    return KeyRing.of(Secret(API_KEY, "test"), Secret(SECURITY_KEY, "test"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "camera"


@pytest.fixture
def setup(emulator, folder: Path) -> Iterator[tuple[Config, Client]]:  # type: ignore[no-untyped-def]
    config = make_config(emulator.url, folder)
    client = Client.from_config(config, keys=keys())
    yield config, client
    client.close()


def job(config: Config, path: Path, target: str | None = None, **changes: Any) -> UploadJob:
    plan = plan_file(path, config.folders[0], sha256=sha256_file(path))
    made = job_for(plan, os.stat(path), target=target)
    return UploadJob(**{**made.__dict__, **changes})


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_video(folder: Path, name: str = "clip.mp4", seconds: float = 1.0) -> Path:
    return write_video(folder / name, VideoSpec(seconds=seconds, creation_time="2025-10-20T09:00:00.000000Z",
                                                location="+52.5200+013.4050/"))


def an_image(folder: Path, name: str, color: tuple[int, int, int] = (1, 2, 3), **spec: Any) -> Path:
    defaults: dict[str, Any] = {"make": "Canon", "model": "Canon EOS 5D", "taken": "2024:06:01 12:30:00",
                                "gps": (48.8584, 2.2945), "keywords": ("paris",)}
    return write_image(folder / name, ImageSpec(color=color, **{**defaults, **spec}))


def uploads_of(admin: Admin, kind: str) -> list[dict[str, Any]]:
    return admin.uploads(kind)


def requests_to(admin: Admin, path: str) -> int:
    return int(admin.stats()["requests"].get(path, 0))


# -- every target, end to end ------------------------------------------------------------------
def test_video_arrives_intact_with_its_metadata_and_is_followed_to_parse(setup, admin, folder) -> None:
    config, client = setup
    path = a_video(folder)
    sent = job(config, path)
    result = client.upload(sent)
    assert result.remote_id.startswith("VI") and result.remote_status == "UNPARSE" and not result.final
    [arrived] = uploads_of(admin, "video")
    assert arrived["id"] == result.remote_id and arrived["sha256"] == sha(path) and arrived["size"] == path.stat().st_size
    assert arrived["content_type"] == "video/mp4" and arrived["filename"] == "clip.mp4"
    fields = arrived["fields"]
    # creation_time is UTC; the folder's zone turns it into the camera's wall clock.
    assert fields["datetime_taken"] == ["2025-10-20 11:00:00"]
    assert (float(fields["latitude"][0]), float(fields["longitude"][0])) == (52.52, 13.405)
    assert fields["tags"] == [sha_tag(sha(path)), "cam"] and fields["unique_id"] == ["default"]
    assert fields["retain_original_video"] == ["true"]
    assert set(fields) == set(sent.form)  # only the fields that have values
    followed = follow(lambda: client.status("video", result.remote_id, "default"))
    assert followed.status.state == DONE and followed.status.raw == "PARSE" and followed.polls >= 2


def test_a_failed_video_is_reported_with_its_cause(setup, admin, folder) -> None:
    config, client = setup
    admin.script({"path": "/serve/api/v1/upload", "action": "fail"})
    result = client.upload(job(config, a_video(folder)))
    followed = follow(lambda: client.status("video", result.remote_id, "default"))
    assert followed.status.state == FAILED and followed.status.cause == "emulated processing failure"


def test_images_with_identical_fields_share_one_request_and_ids_map_back_by_order(setup, admin, folder) -> None:
    config, client = setup
    paths = [an_image(folder, f"p{i}.jpg", color=(i * 40, 0, 0)) for i in range(4)]
    jobs = [job(config, p) for p in paths]
    assert len({repr(sorted(j.form.items())) for j in jobs}) == 1
    outcomes = client.upload_images(jobs)
    assert requests_to(admin, "/serve/api/v1/upload_img") == 1
    by_id = {u["id"]: u for u in uploads_of(admin, "image")}
    for path, outcome in zip(paths, outcomes):
        assert not isinstance(outcome, BaseException) and outcome.final
        assert by_id[outcome.remote_id]["sha256"] == sha(path) and by_id[outcome.remote_id]["filename"] == path.name
    fields = by_id[outcomes[0].remote_id]["fields"]  # type: ignore[union-attr]
    assert fields["datetime_taken"] == ["2024-06-01 12:30:00"] and fields["camera_model"] == ["Canon EOS 5D"]
    assert fields["tags"] == ["cam", "paris"] and float(fields["latitude"][0]) == pytest.approx(48.8584)
    assert client.status("image", outcomes[0].remote_id).state == DONE  # type: ignore[union-attr]


def test_images_with_different_fields_go_in_separate_requests(setup, admin, folder) -> None:
    config, client = setup
    jobs = [job(config, an_image(folder, "a.jpg", taken="2024:06:01 12:30:00")),
            job(config, an_image(folder, "b.jpg", taken="2024:06:02 08:00:00")),
            job(config, an_image(folder, "c.jpg", taken="2024:06:01 12:30:00", color=(9, 9, 9)))]
    outcomes = client.upload_images(jobs)
    assert all(not isinstance(o, BaseException) for o in outcomes)
    assert requests_to(admin, "/serve/api/v1/upload_img") == 2


def test_one_bad_image_does_not_hold_up_the_rest_of_its_batch(tmp_path, folder) -> None:
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    from mavi_sync.emulator.validate import Limits
    from tests.conftest import fast_timing
    settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY, timing=fast_timing(),
                        limits=Limits(image_bytes=20_000))  # a server stricter than the docs
    with EmulatorServer(tmp_path / "strict", settings) as server:
        config = make_config(server.url, folder)
        client = Client.from_config(config, keys=keys())
        small = [an_image(folder, f"s{i}.jpg", color=(i, i, i)) for i in range(3)]
        big = write_image(folder / "big.png", ImageSpec(size=(200, 200), make="Canon", model="Canon EOS 5D",
                                                        taken="2024:06:01 12:30:00", gps=(48.8584, 2.2945),
                                                        keywords=("paris",)))
        big.write_bytes(big.read_bytes() + os.urandom(30_000))  # trailing bytes: still a PNG, now too big
        jobs = [job(config, p) for p in small[:2] + [big] + small[2:]]
        outcomes = client.upload_images(jobs)
        client.close()
        stored = Admin(server.url).uploads("image")
    assert isinstance(outcomes[2], PermanentError) and "over the 20000 byte limit" in str(outcomes[2])
    assert all(not isinstance(o, BaseException) for i, o in enumerate(outcomes) if i != 2)
    assert sorted(u["filename"] for u in stored) == ["s0.jpg", "s1.jpg", "s2.jpg"]


def test_each_request_of_images_is_handed_back_before_the_next_one_leaves(setup, admin, folder) -> None:
    """The caller records each answer at once (issue 23: a crash while later requests waited
    for their slots sent photos twice), so the next request must not have left yet."""
    config, client = setup
    jobs = [job(config, an_image(folder, "a.jpg", taken="2024:06:01 12:30:00")),
            job(config, an_image(folder, "b.jpg", taken="2024:06:02 08:00:00"))]
    each = client.each_image(jobs)
    first = next(each)
    assert requests_to(admin, "/serve/api/v1/upload_img") == 1 and not isinstance(first[1], BaseException)
    second = next(each)
    assert requests_to(admin, "/serve/api/v1/upload_img") == 2 and {first[0], second[0]} == {0, 1}
    assert next(each, None) is None


def test_the_account_check_says_whether_the_key_is_taken(setup, admin) -> None:
    """A pause's trial when no queued file makes a request (pauses.py): cheap, documented,
    the same key; credits cannot be seen from it (only uploads cost them)."""
    _config, client = setup
    client.check_account()
    [asked] = [e for e in admin.stats()["log"] if e["path"] == "/serve/api/v1/list_videos"]
    assert asked["json"] == {"page": 1, "size": 1} and asked["has_authorization"]
    admin.faults(no_credits=True)
    client.check_account()  # (an upload would be refused)
    admin.faults(no_credits=False, bad_key=True)
    with pytest.raises(AccountError) as refused:
        client.check_account()
    assert refused.value.reason == "bad_key"


def test_an_image_the_endpoint_cannot_take_is_refused_before_sending(setup, admin, folder) -> None:
    config, client = setup
    good = job(config, an_image(folder, "ok.jpg"))
    bad = UploadJob(**{**good.__dict__, "filename": "x.tiff", "mime": "image/tiff"})
    outcomes = client.upload_images([good, bad])
    assert isinstance(outcomes[1], PermanentError) and "extension" in str(outcomes[1])
    assert not isinstance(outcomes[0], BaseException)
    assert len(uploads_of(admin, "image")) == 1


def test_security_sync_returns_the_caption_and_tokens(setup, admin, folder) -> None:
    config, client = setup
    path = a_video(folder)
    result = client.upload(job(config, path, target="security"))
    assert result.final and "Emulated understanding of clip.mp4" in result.details["text"]
    assert result.details["token"]["total"] == result.details["token"]["input"] + result.details["token"]["output"]
    [arrived] = uploads_of(admin, "security")
    assert arrived["sha256"] == sha(path)
    assert arrived["fields"]["req"]["user_prompt"] == config.folders[0].security.user_prompt
    [entry] = [e for e in admin.stats()["log"] if e["path"] == "/v1/understand/uploadFileSync"]
    assert entry["part_types"]["req"] == "application/json"


def test_security_async_returns_a_task_and_the_callback_is_posted(emulator, admin, folder) -> None:
    sink = emulator.url + "/_admin/callback-sink"
    config = make_config(emulator.url, folder, security={"mode": "async", "callback": sink})
    client = Client.from_config(config, keys=keys())
    result = client.upload(job(config, a_video(folder), target="security"))
    client.close()
    assert result.remote_id.startswith("task-") and result.remote_status == "SUBMITTED"
    for _ in range(100):
        callbacks = admin.stats()["callbacks"]
        if callbacks:
            break
        threading.Event().wait(0.05)
    assert callbacks[0]["payload"]["task_id"] == result.remote_id and callbacks[0]["result"] == "HTTP 200"


def test_security_uses_its_own_key(emulator, admin, folder) -> None:
    config = make_config(emulator.url, folder)
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(API_KEY, "t")))
    with pytest.raises(AccountError) as info:
        client.upload(job(config, a_video(folder), target="security"))
    client.close()
    assert info.value.reason == "bad_key"


def test_asset_direct_upload_is_followed_to_success(setup, admin, folder) -> None:
    config, client = setup
    path = a_video(folder)
    result = client.upload(job(config, path, target="asset"))
    assert result.remote_id.startswith("re_")
    [arrived] = uploads_of(admin, "asset")
    assert arrived["sha256"] == sha(path) and arrived["via"] == "direct"
    followed = follow(lambda: client.status("asset", result.remote_id))
    assert followed.status.state == DONE and followed.status.raw == "SUCCESS"


def test_big_assets_take_the_signed_url_without_the_key(setup, admin, folder) -> None:
    config, client = setup
    path = a_video(folder)
    result = client.upload(job(config, path, target="asset", method="signed"))
    [arrived] = uploads_of(admin, "asset")
    assert arrived["via"] == "signed" and arrived["sha256"] == sha(path) and arrived["id"] == result.remote_id
    storage = [e for e in admin.stats()["log"] if e["path"].startswith("/_storage/")]
    assert len(storage) == 1 and storage[0]["has_authorization"] is False
    assert follow(lambda: client.status("asset", result.remote_id)).status.state == DONE


def test_an_expired_signed_url_is_replaced(tmp_path, folder) -> None:
    from dataclasses import replace

    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    from tests.conftest import fast_timing
    settings = Settings(api_key=API_KEY, security_key=SECURITY_KEY,
                        timing=replace(fast_timing(), signed_url_ttl_s=0.2))
    with EmulatorServer(tmp_path / "short-ttl", settings) as server:
        admin = Admin(server.url)
        admin.script({"path": "/_storage/", "action": "latency", "value": 0.4})  # arrives after expiry
        config = make_config(server.url, folder)
        client = Client.from_config(config, keys=keys())
        result = client.upload(job(config, a_video(folder), target="asset", method="signed"))
        client.close()
        assert requests_to(admin, "/serve/api/v2/upload/signed-url") == 2
        assert [u["id"] for u in admin.uploads("asset") if u["size"] > 0] == [result.remote_id]


# -- faults ----------------------------------------------------------------------------------------
def test_server_errors_are_retried_and_the_upload_succeeds(setup, admin, folder) -> None:
    config, client = setup
    admin.script({"path": "/serve/api/v1/upload", "action": "error", "count": 2})
    result = client.upload(job(config, a_video(folder)))
    assert requests_to(admin, "/serve/api/v1/upload") == 3
    assert [u["id"] for u in uploads_of(admin, "video")] == [result.remote_id]


def test_too_many_server_errors_leave_a_transient_error_for_later(setup, admin, folder) -> None:
    config, client = setup
    admin.script({"path": "/serve/api/v2/upload", "action": "error", "count": 10})
    with pytest.raises(TransientError, match="server error HTTP 5"):
        client.upload(job(config, a_video(folder), target="asset"))
    assert requests_to(admin, "/serve/api/v2/upload") == 3 and uploads_of(admin, "asset") == []


@pytest.mark.parametrize("path,target", [("/serve/api/v1/upload", "video"), ("/serve/api/v2/upload", "asset"),
                                         ("/v1/understand/uploadFileSync", "security")])
def test_rate_limit_answers_are_retried(setup, admin, folder, path: str, target: str) -> None:
    config, client = setup
    admin.script({"path": path, "action": "rate_limit"})
    client.upload(job(config, a_video(folder), target=target))
    assert requests_to(admin, path) == 2 and len(uploads_of(admin, target)) == 1


def test_a_connection_dropped_mid_body_is_retried_and_nothing_half_stored(setup, admin, folder) -> None:
    config, client = setup
    admin.script({"path": "/serve/api/v1/upload", "action": "drop"})
    path = a_video(folder, seconds=4)
    result = client.upload(job(config, path))
    assert admin.stats()["answers"].get("dropped") == 1
    [arrived] = uploads_of(admin, "video")
    assert arrived["id"] == result.remote_id and arrived["sha256"] == sha(path)


def test_no_answer_after_a_full_video_upload_adopts_the_stored_video(emulator, admin, folder) -> None:
    config = make_config(emulator.url, folder, uploads=fast_uploads(read_timeout_s=0.5))
    client = Client.from_config(config, keys=keys())
    admin.script({"path": "/serve/api/v1/upload", "action": "hang"})
    result = client.upload(job(config, a_video(folder)))
    client.close()
    assert result.adopted
    [stored] = uploads_of(admin, "video")
    assert stored["id"] == result.remote_id and stored["answered"] is False
    assert requests_to(admin, "/serve/api/v1/upload") == 1  # never sent twice
    assert requests_to(admin, "/serve/api/v1/list_videos") == 1


def test_a_video_maybe_sent_before_a_crash_is_looked_up_not_resent(setup, admin, folder) -> None:
    config, client = setup
    path = a_video(folder)
    first = client.upload(job(config, path))
    again = client.upload(job(config, path, maybe_sent=True))
    assert again.adopted and again.remote_id == first.remote_id
    assert requests_to(admin, "/serve/api/v1/upload") == 1


def test_a_video_maybe_sent_but_absent_is_sent(setup, admin, folder) -> None:
    config, client = setup
    result = client.upload(job(config, a_video(folder), maybe_sent=True))
    assert not result.adopted and requests_to(admin, "/serve/api/v1/upload") == 1


def test_without_the_sha_tag_an_unknown_outcome_is_sent_again(emulator, admin, folder) -> None:
    """The documented cost of `video_sha_tag = false`: a possible duplicate."""
    config = make_config(emulator.url, folder, uploads=fast_uploads(read_timeout_s=0.5))
    client = Client.from_config(config, keys=keys())
    plan = plan_file(a_video(folder), config.folders[0], sha256=sha256_file(folder / "clip.mp4"), with_sha_tag=False)
    admin.script({"path": "/serve/api/v1/upload", "action": "hang"})
    result = client.upload(job_for(plan, os.stat(folder / "clip.mp4")))
    client.close()
    assert not result.adopted and len(uploads_of(admin, "video")) == 2


@pytest.mark.parametrize("fault,reason", [("bad_key", "bad_key"), ("no_credits", "no_credits"),
                                          ("disabled", "disabled")])
@pytest.mark.parametrize("target", ["video", "image", "asset", "security"])
def test_account_errors_are_raised_at_once_for_every_target(setup, admin, folder, fault, reason, target) -> None:
    config, client = setup
    admin.faults(**{fault: True})
    path = an_image(folder, "a.jpg") if target == "image" else a_video(folder)
    with pytest.raises(AccountError) as info:
        client.upload(job(config, path, target=target))
    assert info.value.reason == reason and info.value.hint
    assert admin.stats()["total_requests"] == 1  # not retried: it concerns the account, not the file
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)


def test_account_errors_clear_when_the_server_accepts_again(setup, admin, folder) -> None:
    config, client = setup
    admin.faults(no_credits=True)
    with pytest.raises(AccountError):
        client.upload(job(config, a_video(folder)))
    admin.faults(no_credits=False)
    assert client.upload(job(config, a_video(folder))).remote_id


def test_a_validation_refusal_is_permanent_with_the_servers_words(setup, admin, folder) -> None:
    config, client = setup
    sent = job(config, a_video(folder))
    bad = UploadJob(**{**sent.__dict__, "form": {**sent.form, "datetime_taken": "2024/01/01"}})
    with pytest.raises(PermanentError, match=r"refused \(0003\) datetime_taken '2024/01/01'") as info:
        client.upload(bad)
    assert info.value.code == "0003" and requests_to(admin, "/serve/api/v1/upload") == 1


def test_an_unsupported_asset_is_refused_with_415(setup, admin, folder) -> None:
    config, client = setup
    sent = job(config, a_video(folder), target="asset")
    with pytest.raises(PermanentError, match="HTTP 415"):
        client.upload(UploadJob(**{**sent.__dict__, "filename": "clip.xyz"}))


def test_the_ambiguous_v2_400_is_retried_a_bounded_number_of_times(setup, admin, folder) -> None:
    config, client = setup
    admin.faults(v2_limit_as_400=True)
    admin.script({"path": "/serve/api/v2/upload", "action": "rate_limit", "count": 1})
    client.upload(job(config, a_video(folder), target="asset"))  # once: a rate limit, passes on retry
    admin.script({"path": "/serve/api/v2/upload", "action": "rate_limit", "count": 10})
    with pytest.raises(AmbiguousRefusal, match="exceeded the limit"):  # a rate limit, for the file's back-off
        client.upload(job(config, a_video(folder, "b.mp4"), target="asset"))
    assert requests_to(admin, "/serve/api/v2/upload") == 2 + 3


def test_a_file_changing_while_sent_aborts_and_stores_nothing(setup, admin, folder) -> None:
    config, client = setup
    path = folder / "recording.mp4"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(5 << 20))  # several 1 MiB reads: the file grows between them
    st = path.stat()
    sent = UploadJob(path, "asset", path.name, "video/mp4", st.st_size, st.st_mtime_ns, sha(path))

    def grow(done: int, total: int) -> None:
        if done < total:
            with open(path, "ab") as f:
                f.write(b"x")

    with pytest.raises(FileChanged):
        client.upload(sent, progress=grow)
    assert uploads_of(admin, "asset") == []


def test_unreachable_server_is_a_transient_error(folder) -> None:
    config = make_config("http://127.0.0.1:9", folder)
    client = Client.from_config(config, keys=keys())
    with pytest.raises(TransientError, match="cannot reach 127.0.0.1:9"):
        client.upload(job(config, a_video(folder), target="asset"))
    client.close()


def test_concurrent_uploads_through_one_client(setup, admin, folder) -> None:
    config, client = setup
    admin.faults(latency_s=0.2)
    paths = [a_video(folder, f"v{i}.mp4", seconds=1 + i / 10) for i in range(6)]
    errors = run_in_threads(lambda p: client.upload(job(config, p)), paths)  # type: ignore[arg-type]
    assert errors == []
    assert sorted(u["sha256"] for u in uploads_of(admin, "video")) == sorted(sha(p) for p in paths)
    assert admin.stats()["max_in_flight"] >= 2


def test_the_client_keeps_under_the_rate_limit(emulator, admin, folder) -> None:
    admin.faults(rate_limit_per_minute=300, rate_limit_burst=2)
    config = make_config(emulator.url, folder, uploads=fast_uploads(rate_limit_per_minute=300))
    client = Client.from_config(config, keys=keys())
    path = a_video(folder)
    for _ in range(6):
        client.upload(job(config, path, target="asset"))
    client.close()
    answers = admin.stats()["answers"]
    assert not [a for a in answers if a.startswith("429")], answers
    assert client.transport.limiters["upload"].waits >= 4  # type: ignore[union-attr]


def test_the_key_is_in_the_header_and_nowhere_else(setup, admin, folder) -> None:
    config, client = setup
    client.upload(job(config, a_video(folder)))
    assert "Authorization" not in client.transport.session.headers
    assert API_KEY not in repr(client.keys) and API_KEY not in repr(client.__dict__)


def test_an_upload_counts_against_the_rate_once_when_its_body_starts(setup, admin, folder) -> None:
    """The limiter's account of departures gets each upload once, when its body starts (the
    headers are out by then), and each status query once."""
    from mavi_sync.api.ratelimit import RateLimiter

    class Counted(RateLimiter):
        def __init__(self) -> None:
            super().__init__(rate=100.0)
            self.calls = 0

        def sent(self) -> None:
            self.calls += 1
            super().sent()

    config, client = setup
    uploads, queries = Counted(), Counted()
    client.transport.limiters.update(upload=uploads, query=queries)
    path = a_video(folder)
    result = client.upload(job(config, path))
    assert uploads.calls == 1 and len(uploads_of(admin, "video")) == 1
    client.status("video", result.remote_id)
    assert queries.calls == 1 and uploads.calls == 1


def test_requests_own_retries_are_off_so_retry_py_is_the_only_layer() -> None:
    """docs/design/api.md, "What is retried": requests' own retries are off; a second layer would multiply
    the tries and hide them from the logs and the rate limiter."""
    from mavi_sync.api.ratelimit import RateLimiter
    from mavi_sync.api.transport import Timeouts, Transport

    transport = Transport(timeouts=Timeouts(1, 1), upload_limiter=RateLimiter(1.0), query_limiter=RateLimiter(1.0))
    try:
        for url in ("http://127.0.0.1/", "https://api.memories.ai/"):
            retries = transport.session.get_adapter(url).max_retries
            assert retries.total == 0 and not retries.status_forcelist, retries
    finally:
        transport.close()


# -- the byte throttle ---------------------------------------------------------------------------
def test_a_held_throttle_stops_uploads_but_never_status_checks(setup, admin, folder) -> None:
    from mavi_sync.errors import Held
    config, client = setup
    path = a_video(folder)
    sent = job(config, path)
    result = client.upload(sent)
    client.transport.throttle.set(1, "outside the upload windows")  # held, and a cap of 1 byte/s
    assert client.status("video", result.remote_id).raw  # answered at once: queries carry no body
    with pytest.raises(Held):
        client.upload(job(config, a_video(folder, "other.mp4", seconds=2.0)))
    assert len(uploads_of(admin, "video")) == 1  # the held body was cut off: the server kept nothing
