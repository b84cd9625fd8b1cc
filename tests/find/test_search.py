"""`mavi-sync search`: the account's search over real HTTP, each hit shown as the file here."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from mavi_sync.after import AfterUpload
from mavi_sync.errors import MaviSyncError
from mavi_sync.find.search import Found, Query, clock, search
from tests.conftest import API_KEY
from tests.find.rig import Box


@pytest.fixture
def box(emulator, tmp_path: Path) -> Iterator[Box]:  # type: ignore[no-untyped-def]
    b = Box(emulator.url, tmp_path, camera_model="Front Door Cam")
    yield b
    b.close()


def find(box: Box, q: Query) -> list[Found]:
    return list(search(box.client, box.ledger, q, box.config))


def searches(admin) -> int:  # type: ignore[no-untyped-def]
    return int(admin.stats()["requests"].get("/serve/api/v1/search", 0))


def test_a_hit_is_the_file_here_its_segment_camera_time_and_a_player_command(box: Box, admin) -> None:
    gate = box.send(box.video("front door/gate 1.mp4", when="2024-05-01T10:00:00"))
    yard = box.send(box.video("yard.mp4", when="2024-05-02T11:00:00"))
    admin.segments(gate.remote_id, {"start": 13, "end": 18, "text": "a delivery van stops at the gate"})
    admin.segments(yard.remote_id, {"start": 2, "end": 4, "text": "a cat crosses the yard"})
    result = box.cli("search", "delivery van")
    assert result.returncode == 0, result.stderr
    first, player = result.stdout.splitlines()[:2]
    path = str(box.cam / "front door" / "gate 1.mp4")
    assert first.split()[:2] == ["1.", "1.00"] and path in first and "00:13–00:18" in first
    assert "camera Front Door Cam" in first and "taken 2024-05-01 10:00:00" in first
    assert shlex.split(player) == ["mpv", "--start=13", path]  # ready to paste: the space is quoted
    assert "yard" not in result.stdout and API_KEY not in result.stdout + result.stderr


def test_a_file_gone_from_here_and_a_video_sent_from_elsewhere_say_so(box: Box, admin) -> None:
    gone = box.video("gone.mp4")
    record = box.send(gone)
    gone.unlink()
    box.ledger.forget_path(gone)  # the walk found it gone
    [other] = admin.seed([{"filename": "porch.mp4", "tags": ["porch"]}])["ids"]
    [known] = admin.seed([{"filename": "shed.mp4", "tags": ["porch", f"sha256:{'b' * 64}"]}])["ids"]
    box.ledger.adopt_remote([{"sha256": "b" * 64, "target": "video", "namespace": "default", "size": 1,
                              "state": "confirmed", "remote_id": known, "remote_status": "PARSE",
                              "uploaded_at": 1.0}])  # recovered from the server: no path here ever
    admin.segments(record.remote_id, {"start": 1, "end": 2, "text": "porch light"})
    found = find(box, Query("porch light"))
    by_no = {f.hit.video_no: f for f in found}
    assert by_no[record.remote_id].where.describe() == f"no longer there: {gone}"
    assert by_no[other].where.describe() == "not uploaded from this box: porch.mp4"
    assert by_no[known].where.describe() == "no longer on this box: shed.mp4"
    assert all(f.player() is None for f in found) and by_no[other].as_json()["uploaded_from_here"] is False


@pytest.mark.parametrize("action", ["delete", "archive"])
def test_a_file_deleted_or_archived_after_upload_is_named_where_it_went(emulator, admin, tmp_path: Path,
                                                                         action: str) -> None:
    box = Box(emulator.url, tmp_path, after_upload=action, archive_dir=str(tmp_path / "archive"))
    try:
        clip = box.video("front/gate.mp4")
        record = box.send(clip)
        AfterUpload(box.config, box.ledger).confirmed(record)  # what the daemon's after-upload owner does
        assert not clip.exists()
        admin.segments(record.remote_id, {"start": 4, "end": 6, "text": "a parcel on the step"})
        [hit] = find(box, Query("parcel"))
    finally:
        box.close()
    if action == "delete":
        assert hit.where.describe() == f"deleted after upload: {clip}" and hit.player() is None
    else:
        copy = tmp_path / "archive" / "front" / "gate.mp4"
        assert hit.where.describe() == f"{copy} (archived from {clip})"
        assert hit.player() == f"mpv --start=4 {copy}" and hit.as_json()["place"] == "archived"


def test_capture_time_and_local_folder_are_filtered_here_and_the_limit_holds(box: Box, admin) -> None:
    for day in (1, 2, 3):
        record = box.send(box.video(f"day{day}/clip.mp4", when=f"2024-05-0{day}T12:00:00"))
        admin.segments(record.remote_id, {"start": day, "end": day + 1, "text": "van"})
    since = find(box, Query("van", since=datetime(2024, 5, 2)))
    assert sorted(f.taken.day for f in since) == [2, 3]  # type: ignore[union-attr]
    until = find(box, Query("van", until=datetime(2024, 5, 1, 23)))
    assert [f.taken.day for f in until] == [1]  # type: ignore[union-attr]
    folder = find(box, Query("van", folder=box.cam / "day3"))
    assert [Path(f.where.path).parent.name for f in folder] == ["day3"]  # type: ignore[arg-type]
    assert len(find(box, Query("van", limit=2))) == 2


def test_audio_and_caption_searches_show_what_matched(box: Box, admin) -> None:
    record = box.send(box.video("hall.mp4"))
    admin.segments(record.remote_id, {"start": 5, "end": 9, "text": "someone rings the doorbell", "kind": "audio"},
                   {"start": 20, "end": 25, "text": "a man in a red coat", "kind": "clip"})
    [audio] = find(box, Query("doorbell", kind="audio"))
    assert (audio.hit.start_s, audio.hit.end_s, audio.hit.text) == (5, 9, "someone rings the doorbell")
    assert not find(box, Query("doorbell", kind="clip"))
    [caption] = find(box, Query("red coat", kind="caption"))
    assert caption.hit.start_s == 20 and caption.where.path == str(box.cam / "hall.mp4")
    assert "“a man in a red coat”" in "\n".join(caption.lines(1))


def test_json_names_every_field(box: Box, admin) -> None:
    record = box.send(box.video("gate.mp4"))
    admin.segments(record.remote_id, {"start": 3, "end": 7, "text": "parcel"})
    result = box.cli("search", "parcel", "--json")
    assert result.returncode == 0, result.stderr
    [hit] = json.loads(result.stdout)
    assert hit == {"video_no": record.remote_id, "score": 1.0, "start_s": 3.0, "end_s": 7.0, "text": None,
                   "place": "watched", "path": str(box.cam / "gate.mp4"), "was": None,
                   "camera_model": "Front Door Cam", "capture_time": "2024-05-01T10:00:00",
                   "uploaded_from_here": True, "player": f"mpv --start=3 {box.cam / 'gate.mp4'}"}


def test_an_empty_query_is_refused_before_anything_is_asked(box: Box, admin) -> None:
    for query in ("", "   "):
        result = box.cli("search", query)
        assert result.returncode == 1 and "the query is empty" in result.stderr and "Try: " in result.stderr
    with pytest.raises(MaviSyncError, match="empty"):
        find(box, Query("\t"))
    assert searches(admin) == 0


def test_a_query_the_server_refuses_is_said_plainly(box: Box, admin) -> None:
    admin.script({"path": "/serve/api/v1/search", "action": "refuse"})
    result = box.cli("search", "van")
    assert result.returncode == 1 and searches(admin) == 1  # refused for good: not asked again
    assert result.stderr.startswith("mavi-sync: the server refused the search: refused by the service\nTry: ")


def test_a_limit_beyond_what_the_server_gives_is_refused_here(box: Box, admin) -> None:
    result = box.cli("search", "van", "--type", "caption", "--limit", "500")
    assert result.returncode == 1 and "caption search gives 1 to 200 hits" in result.stderr
    assert searches(admin) == 0


def test_segment_times_read_as_a_clock() -> None:
    assert (clock(13), clock(75.9), clock(3725)) == ("00:13", "01:15", "1:02:05")
