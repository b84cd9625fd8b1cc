"""`mavi-sync check [--fix]`: the ledger against the server's listing, over real HTTP."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from mavi_sync.find.check import check
from mavi_sync.find.listing import Listing
from mavi_sync.ledger.states import State
from tests.find.rig import Box


@pytest.fixture
def box(emulator, tmp_path: Path) -> Iterator[Box]:  # type: ignore[no-untyped-def]
    b = Box(emulator.url, tmp_path)
    yield b
    b.close()


def sha(n: int) -> str:
    return hashlib.sha256(f"content {n}".encode()).hexdigest()


def row(n: int, remote_id: str, target: str = "video") -> dict[str, Any]:
    return {"sha256": sha(n), "target": target, "namespace": "default", "size": 10, "state": State.CONFIRMED,
            "remote_id": remote_id, "remote_status": "PARSE", "uploaded_at": 1.0, "metadata": None}


def seeded(admin, n: int, **extra: Any) -> str:  # type: ignore[no-untyped-def]
    return str(admin.seed([{"filename": f"v{n}.mp4", "tags": [f"sha256:{sha(n)}"], **extra}])["ids"][0])


def test_a_ledger_the_server_agrees_with_exits_0_with_one_line(box: Box) -> None:
    box.send(box.video("a.mp4"))
    box.send(box.video("b.mp4", seconds=0.5))
    result = box.cli("check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("check: 2 confirmed video(s) compared: 2 ok, 0 missing there, 0 FAILED there, "
                                    "0 there but unknown here; ")


def test_missing_failed_and_unknown_are_listed_and_exit_1(box: Box, admin) -> None:
    ok, failed = seeded(admin, 1), seeded(admin, 2, status="FAILED")
    unknown = seeded(admin, 3)
    box.ledger.adopt_remote([row(1, ok), row(2, failed), row(4, "VI404")])
    report = check(box.ledger, box.client, ["default"])
    assert {(p.kind, p.video_no) for p in report.problems} == {("failed", failed), ("missing", "VI404"),
                                                              ("unknown", unknown)}
    assert (report.checked, report.ok, report.exit_code) == (3, 1, 1)
    result = box.cli("check")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("check: 3 confirmed video(s) compared: 1 ok, 1 missing there, 1 FAILED there, "
                                "1 there but unknown here")
    assert any(line.startswith("missing") and "VI404" in line for line in lines)
    assert any(line.startswith("failed") and failed in line and "seeded failure" in line for line in lines)
    assert any(line.startswith("unknown") and unknown in line and "v3.mp4" in line for line in lines)
    quiet = box.cli("check", "--quiet")
    assert quiet.returncode == 1 and quiet.stdout.splitlines() == [quiet.stdout.strip()]
    assert quiet.stdout.split("; ")[0] == lines[-1].split("; ")[0]


def test_a_video_held_under_another_id_by_its_tag_is_ok(box: Box, admin) -> None:
    again = seeded(admin, 5)  # sent again (or adopted) later: the tag finds it
    box.ledger.adopt_remote([row(5, "VI-old")])
    report = check(box.ledger, box.client, ["default"])
    assert (report.ok, report.elsewhere, report.problems) == (1, 1, [])
    assert not [p for p in report.problems if p.video_no == again]  # and not unknown here either


def test_fix_queues_again_what_the_server_lost_and_it_is_sent_again(box: Box, admin) -> None:
    path = box.video("a.mp4")
    first = box.send(path)
    gone = box.send(box.video("gone.mp4", seconds=0.5))
    (box.cam / "gone.mp4").unlink()
    box.ledger.forget_path(box.cam / "gone.mp4")  # deleted after upload: nothing here to send again
    admin.reset()  # the server lost both
    result = box.cli("check", "--fix")
    assert result.returncode == 1, result.stderr
    assert "2 missing there" in result.stdout and "; 1 queued again, 1 with no copy left here" in result.stdout
    queued = box.ledger.get_by_id(first.id)
    assert queued is not None and queued.state is State.READY and queued.remote_id is None
    assert "check: no longer there (was " in (queued.last_error or "")
    assert box.ledger.get_by_id(gone.id).state is State.CONFIRMED  # type: ignore[union-attr]
    again = box.send(path)  # what the daemon does with a ready row
    assert again.id == first.id and again.remote_id != first.remote_id and len(admin.uploads("video")) == 1
    assert "2 confirmed video(s) compared: 1 ok, 1 missing there" in box.cli("check").stdout


def test_a_server_that_lists_a_video_twice_counts_it_once(box: Box, admin) -> None:
    ids = [seeded(admin, n) for n in range(7)]
    box.ledger.adopt_remote([row(n, ids[n]) for n in range(7)])
    admin.faults(list_repeats=True)
    report = check(box.ledger, box.client, ["default"], page_size=3)
    assert (report.checked, report.ok, report.problems, report.repeats) == (7, 7, [], 2)
    assert report.requests == 3


def test_paging_stays_within_the_query_rate_limit(tmp_path: Path, emulator, admin) -> None:
    # 5 a second: the vendor's upper figure for list requests (a slot every 200 ms).
    box = Box(emulator.url, tmp_path, uploads={"query_rate_limit_per_second": 5})
    try:
        ids = [seeded(admin, n) for n in range(20)]
        box.ledger.adopt_remote([row(n, ids[n]) for n in range(20)])
        admin.faults(query_rate_limit_per_second=5)
        started = time.monotonic()
        report = check(box.ledger, box.client, ["default"], page_size=4)
        elapsed = time.monotonic() - started
    finally:
        box.close()
    refused = sum(n for answer, n in admin.stats()["answers"].items() if "0429" in answer)
    assert (report.ok, report.requests, refused) == (20, 5, 0)
    assert elapsed >= (5 - 1) / 5  # the limiter's floor: one slot apart, not the server's refusals


def test_an_upload_that_ends_during_the_listing_is_not_unknown(box: Box, admin) -> None:
    late = seeded(admin, 9)

    def recorded_meanwhile(_listing: Listing, _new: object) -> None:
        if box.ledger.get(sha(9), "video", "default") is None:
            box.ledger.adopt_remote([row(9, late)])

    report = check(box.ledger, box.client, ["default"], on_page=recorded_meanwhile)
    assert report.problems == [] and report.checked == 0  # confirmed after the rows were read: not judged


def test_what_no_endpoint_lists_is_counted_as_not_checkable(box: Box) -> None:
    box.ledger.adopt_remote([row(1, "123", target="image"), row(2, "re_1", target="asset")])
    result = box.cli("check")
    assert result.returncode == 0
    assert "; not checkable (no endpoint lists them): 1 asset, 1 image;" in result.stdout


def test_a_check_that_cannot_compare_exits_2(box: Box, admin) -> None:
    box.send(box.video("a.mp4"))
    admin.faults(bad_key=True)
    result = box.cli("check")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("check: could not compare: ") and "Try: " in result.stderr
