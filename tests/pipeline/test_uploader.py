"""One file through hash → plan → ledger → upload → outcome, against the emulator and a real ledger."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.api.follow import PollPolicy
from mavi_sync.config.parse import build_config
from mavi_sync.config.schema import Config
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import AccountError
from mavi_sync.ledger.store import Ledger
from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.follower import Follower
from mavi_sync.ledger.records import FileRecord
from mavi_sync.pipeline.outcome import RetryRules
from mavi_sync.pipeline.uploader import upload_path
from tests.conftest import API_KEY, SECURITY_KEY, api_table, fast_uploads

POLL = PollPolicy(initial_s=0.05, max_s=0.1, give_up_s=15)


def follow_record(ledger: Ledger, client: Client, record: FileRecord, policy: PollPolicy) -> FileRecord:
    """What `mavi-sync upload` does after sending: follow until final or the give-up time."""
    return Follower(ledger, client, RetryRules(poll=policy), clock=time.time, stop=client.stop).follow(record)


class Rig:
    def __init__(self, url: str, root: Path, **uploads: Any) -> None:
        self.folder_path = root / "cam"
        self.folder_path.mkdir(parents=True, exist_ok=True)
        self.config: Config = build_config({
            "api": api_table(url), "uploads": fast_uploads(**uploads),
            "folders": [{"path": str(self.folder_path), "tags": ["cam"]}]})
        self.folder = self.config.folders[0]
        self.ledger = Ledger(root / "ledger.sqlite3")
        self.client = Client.from_config(self.config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))

    def upload(self, path: Path, **kw: Any):  # type: ignore[no-untyped-def]
        return upload_path(path, self.folder, self.config, self.ledger, self.client, **kw)

    def close(self) -> None:
        self.client.close()
        self.ledger.close()


@pytest.fixture
def rig(emulator, tmp_path: Path) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    r = Rig(emulator.url, tmp_path)
    yield r
    r.close()


def video(rig: Rig, name: str = "a.mp4", seconds: float = 1.0) -> Path:
    return write_video(rig.folder_path / name, VideoSpec(seconds=seconds))


def test_a_video_is_uploaded_recorded_and_followed_to_confirmed(rig: Rig, admin) -> None:
    path = video(rig)
    outcome = rig.upload(path)
    assert outcome.state == State.UPLOADED and outcome.record is not None
    record = rig.ledger.get_by_id(outcome.record.id)
    assert record is not None and record.remote_id == outcome.result.remote_id and record.attempts == 1  # type: ignore[union-attr]
    assert record.metadata and record.metadata["video_codec"] == "h264"
    assert rig.ledger.paths_of(record.id) == [bytes(path)]
    final = follow_record(rig.ledger, rig.client, record, POLL)
    assert final.state == State.CONFIRMED and final.remote_status == "PARSE" and final.polls >= 1


def test_the_same_content_is_never_uploaded_twice(rig: Rig, admin) -> None:
    path = video(rig)
    rig.upload(path)
    copy = rig.folder_path / "copy.mp4"
    copy.write_bytes(path.read_bytes())
    again = rig.upload(copy)
    assert again.state == State.UPLOADED and "already uploaded" in again.detail
    assert len(admin.uploads("video")) == 1
    assert len(rig.ledger.paths_of(again.record.id)) == 2  # type: ignore[union-attr]


def test_a_refused_file_is_recorded_with_its_reason_and_left_untouched(rig: Rig, admin) -> None:
    path = rig.folder_path / "notes.mp4"
    path.write_text("not a video")
    before = path.stat()
    outcome = rig.upload(path)
    assert outcome.state == State.REJECTED and "text file" in outcome.detail
    assert outcome.record is not None and outcome.record.last_error == outcome.detail
    assert path.read_text() == "not a video" and path.stat().st_mtime_ns == before.st_mtime_ns
    assert admin.stats()["total_requests"] == 0


def test_a_server_refusal_is_recorded_as_rejected(tmp_path: Path) -> None:
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    from mavi_sync.emulator.validate import Limits
    strict = Settings(api_key=API_KEY, security_key=SECURITY_KEY, limits=Limits(video_bytes=500))
    with EmulatorServer(tmp_path / "strict", strict) as server:
        rig = Rig(server.url, tmp_path)
        try:
            path = video(rig)
            outcome = rig.upload(path)
        finally:
            rig.close()
    assert outcome.state == State.REJECTED and "over the 500 byte limit" in outcome.detail
    assert path.exists()


def test_transient_failures_schedule_a_later_attempt_then_fail_after_the_limit(emulator, admin, tmp_path) -> None:
    rig = Rig(emulator.url, tmp_path, max_attempts=2, request_attempts=1)
    admin.faults(error_rate=1.0)
    try:
        first = rig.upload(video(rig))
        assert first.state == State.READY and first.record is not None
        assert first.record.next_attempt_at is not None and first.record.attempts == 1
        assert "server error" in (first.record.last_error or "")
        second = rig.upload(video(rig))
        assert second.state == State.FAILED and second.record.attempts == 2  # type: ignore[union-attr]
        admin.faults(error_rate=0.0)
        third = rig.upload(video(rig))  # asked again by hand: tried again
        assert third.state == State.UPLOADED
    finally:
        rig.close()


def test_an_account_error_pauses_without_using_up_attempts(rig: Rig, admin) -> None:
    admin.faults(bad_key=True)
    path = video(rig)
    with pytest.raises(AccountError):
        rig.upload(path)
    [record] = rig.ledger.files()
    assert record.state == State.READY and record.attempts == 0
    admin.faults(bad_key=False)
    assert rig.upload(path).state == State.UPLOADED


def test_an_attempt_cut_off_by_a_crash_is_resumed_without_a_duplicate(rig: Rig, admin) -> None:
    path = video(rig)
    first = rig.upload(path)
    assert first.record is not None
    # What a kill -9 between "request sent" and "answer recorded" leaves behind:
    rig.ledger._db.execute("UPDATE files SET state = 'uploading', remote_id = NULL WHERE id = ?", (first.record.id,))
    again = rig.upload(path)
    assert again.state == State.UPLOADED and again.detail == "adopted an earlier upload"
    assert again.record.remote_id == first.record.remote_id  # type: ignore[union-attr]
    assert len(admin.uploads("video")) == 1


def test_a_remote_failure_fails_the_file_with_the_cause(rig: Rig, admin) -> None:
    admin.script({"path": "/serve/api/v1/upload", "action": "fail"})
    outcome = rig.upload(video(rig))
    final = follow_record(rig.ledger, rig.client, outcome.record, POLL)  # type: ignore[arg-type]
    assert final.state == State.FAILED and "emulated processing failure" in (final.last_error or "")


def test_following_gives_up_and_flags_the_file(rig: Rig, admin) -> None:
    outcome = rig.upload(video(rig))
    final = follow_record(rig.ledger, rig.client, outcome.record,  # type: ignore[arg-type]
                          PollPolicy(initial_s=0.01, max_s=0.01, give_up_s=0.05))
    assert final.state == State.UPLOADED and "still UNPARSE" in (final.last_error or "")


def test_security_sync_results_are_kept_in_the_ledger(rig: Rig, admin) -> None:
    outcome = rig.upload(video(rig), target="security")
    assert outcome.state == State.CONFIRMED
    record = rig.ledger.get_by_id(outcome.record.id)  # type: ignore[union-attr]
    assert record is not None and record.result is not None
    assert record.result["text"].startswith("Emulated understanding") and record.result["token"]["total"] > 0


def test_a_vanished_file_is_not_an_error(rig: Rig) -> None:
    outcome = rig.upload(rig.folder_path / "gone.mp4")
    assert outcome.state == State.VANISHED and outcome.record is None
