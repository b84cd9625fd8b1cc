"""After-upload actions on real files and a real ledger: a duty owed once the server holds
the file, done only on a path still holding what was uploaded, never overwriting, retried
with back-off when it fails, found when nothing was recorded; a caption sidecar follows its
clip; every row keeps where its bytes are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from mavi_sync.after import AfterUpload
from mavi_sync.after.move import PARTIAL, archive, free_name
from mavi_sync.config.parse import build_config
from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3", clock=Clock()) as led:
        yield led


def after(tmp_path: Path, ledger: Ledger, action: str, **folder: Any) -> AfterUpload:
    table = {"path": str(tmp_path / "cam"), "after_upload": action, **folder}
    if action == "archive":
        table["archive_dir"] = str(tmp_path / "archive")
    config = build_config({"folders": [table], "uploads": {"retry_initial_s": 10, "retry_max_s": 25}})
    return AfterUpload(config, ledger, clock=ledger._clock)


def confirmed(ledger: Ledger, path: Path, data: bytes = b"video", sha: str = "a" * 64) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    row = ledger.register(path, path.stat(), str(path.parent), sha, "video", "default")
    for state in (State.UPLOADING, State.CONFIRMED):
        ledger.transition(row.id, state)
    return row.id


def test_archive_keeps_the_tree_and_never_overwrites(tmp_path: Path, ledger: Ledger) -> None:
    owner = after(tmp_path, ledger, "archive")
    clip = tmp_path / "cam" / "day1" / "clip.mp4"
    row = confirmed(ledger, clip)
    older = tmp_path / "archive" / "day1" / "clip.mp4"
    older.parent.mkdir(parents=True)
    older.write_bytes(b"an older, different clip")
    owner.confirmed(ledger.get_by_id(row))  # type: ignore[arg-type]
    moved = tmp_path / "archive" / "day1" / "clip (1).mp4"
    assert moved.read_bytes() == b"video" and not clip.exists() and older.read_bytes() == b"an older, different clip"
    assert ledger.lookup_path(clip) is None and ledger.duties(file_id=row) == []
    place = ledger.place_of(row)
    assert place is not None and (place.how, place.path, place.was) == ("archived", bytes(moved), bytes(clip))


def test_delete_removes_only_an_unchanged_file(tmp_path: Path, ledger: Ledger) -> None:
    owner = after(tmp_path, ledger, "delete")
    same, changed = tmp_path / "cam" / "same.mp4", tmp_path / "cam" / "changed.mp4"
    row = confirmed(ledger, same, b"one")
    changed.write_bytes(b"two")
    ledger.record_path(changed, "a" * 64, changed.stat(), str(changed.parent), row)
    os.utime(changed, ns=(0, changed.stat().st_mtime_ns + 5_000_000_000))  # touched after upload
    owner.confirmed(ledger.get_by_id(row))  # type: ignore[arg-type]
    assert not same.exists() and changed.read_bytes() == b"two"
    assert ledger.duties(file_id=row) == []  # the changed one is a new version: nothing owed for it
    assert ledger.place_of(row).how == "watched"  # type: ignore[union-attr]  # the copy still there


def test_keep_owes_nothing_and_a_file_gone_meanwhile_is_forgotten_with_its_place(tmp_path: Path,
                                                                                 ledger: Ledger) -> None:
    kept = tmp_path / "cam" / "k.mp4"
    row = confirmed(ledger, kept, sha="b" * 64)
    after(tmp_path, ledger, "keep").confirmed(ledger.get_by_id(row))  # type: ignore[arg-type]
    assert kept.exists() and ledger.duties(file_id=row) == []
    gone = tmp_path / "cam" / "gone.mp4"
    row = confirmed(ledger, gone)
    gone.unlink()
    after(tmp_path, ledger, "delete").confirmed(ledger.get_by_id(row))  # type: ignore[arg-type]
    assert ledger.lookup_path(gone) is None and ledger.place_of(row).how == "gone"  # type: ignore[union-attr]


@pytest.mark.parametrize("action", ["archive", "delete"])
def test_a_sidecar_beside_the_clip_follows_it_and_one_the_user_deleted_is_no_error(
        tmp_path: Path, ledger: Ledger, action: str, caplog: Any) -> None:
    owner = after(tmp_path, ledger, action, caption_sidecar="beside")
    clip, lone = tmp_path / "cam" / "gate.mp4", tmp_path / "cam" / "lone.mp4"
    row = confirmed(ledger, clip)
    (tmp_path / "cam" / "gate.mp4.caption.txt").write_text("a person at the gate\n")
    lone_row = confirmed(ledger, lone, b"other", "c" * 64)  # its sidecar was deleted by the user
    for r in (row, lone_row):
        owner.confirmed(ledger.get_by_id(r))  # type: ignore[arg-type]
    assert list((tmp_path / "cam").iterdir()) == []
    if action == "archive":
        assert (tmp_path / "archive" / "gate.mp4.caption.txt").read_text() == "a person at the gate\n"
        assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == ["gate.mp4", "gate.mp4.caption.txt",
                                                                           "lone.mp4"]
    assert ledger.waiting(1e12) == {}


def test_a_failure_is_recorded_retried_with_back_off_and_done_once_the_cause_is_gone(
        tmp_path: Path, ledger: Ledger) -> None:
    owner = after(tmp_path, ledger, "archive")
    clock = ledger._clock
    assert isinstance(clock, Clock)
    clip = tmp_path / "cam" / "day1" / "clip.mp4"
    row = confirmed(ledger, clip)
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "day1").write_bytes(b"a file where the archive needs a directory")
    owner.confirmed(ledger.get_by_id(row))  # type: ignore[arg-type]
    [duty] = ledger.duties(file_id=row)
    assert (duty.attempts, duty.next_at - clock.now) == (1, 10) and "Not a directory" in str(duty.last_error)
    assert clip.exists()
    owner.do(ledger.duties(due_by=clock.now + 9))  # not yet
    clock.now += 10
    owner.do(ledger.duties(due_by=clock.now))
    [duty] = ledger.duties(file_id=row)
    assert (duty.attempts, duty.next_at - clock.now) == (2, 20)  # doubling…
    clock.now += 20
    owner.do(ledger.duties(due_by=clock.now))
    assert ledger.duties(file_id=row)[0].next_at - clock.now == 25  # …up to retry_max_s
    assert (ledger.waiting(clock.now)["archive"][0], ledger.waiting(clock.now)["archive"][1].attempts) == (1, 3)
    (tmp_path / "archive" / "day1").unlink()
    clock.now += 25
    owner.do(ledger.duties(due_by=clock.now))
    assert (tmp_path / "archive" / "day1" / "clip.mp4").read_bytes() == b"video" and not clip.exists()
    assert ledger.waiting(clock.now) == {}


def test_what_was_confirmed_without_a_duty_is_found_and_done(tmp_path: Path, ledger: Ledger) -> None:
    """A crash between the confirmation and the duty's write, or a ledger from before duties."""
    clip = tmp_path / "cam" / "clip.mp4"
    row = confirmed(ledger, clip)
    unsent = tmp_path / "cam" / "unsent.mp4"
    unsent.write_bytes(b"x")
    ledger.register(unsent, unsent.stat(), str(unsent.parent), "d" * 64, "video", "default")
    owner = after(tmp_path, ledger, "delete")
    assert owner.review() == 1 and owner.review() == 0
    owner.do(ledger.duties(due_by=1e12))
    assert not clip.exists() and unsent.exists() and ledger.place_of(row).how == "deleted"  # type: ignore[union-attr]


def test_a_motion_photo_waits_for_its_clip_before_it_is_archived(tmp_path: Path, ledger: Ledger) -> None:
    photo = tmp_path / "cam" / "PXL.MP.jpg"
    still = confirmed(ledger, photo, b"jpeg+mp4")
    clip = ledger.companion(still, "a" * 64, "security", "default", 3)
    owner = after(tmp_path, ledger, "archive")
    owner.confirmed(ledger.get_by_id(still))  # type: ignore[arg-type]
    assert photo.exists() and owner.review() == 0
    ledger.transition(clip.id, State.UPLOADING)
    owner.confirmed(ledger.transition(clip.id, State.CONFIRMED))
    assert not photo.exists() and (tmp_path / "archive" / "PXL.MP.jpg").exists()
    assert ledger.place_of(clip.id).how == "archived"  # type: ignore[union-attr]


def test_an_attempt_cut_off_after_linking_or_copying_is_finished_not_copied_twice(tmp_path: Path) -> None:
    src, dest = tmp_path / "cam" / "a.mp4", tmp_path / "archive" / "a.mp4"
    src.parent.mkdir()
    dest.parent.mkdir()
    src.write_bytes(b"clip")
    os.link(src, dest)  # cut off between the link and the unlink
    archive(src, dest)
    assert not src.exists() and dest.read_bytes() == b"clip"
    src.write_bytes(b"clip2")
    (tmp_path / "archive" / "b.mp4").write_bytes(b"clip2")  # a finished copy, the original not yet removed
    (tmp_path / "archive" / f".b.mp4{PARTIAL}").write_bytes(b"cl")  # and a copy cut short before that
    archive(src, tmp_path / "archive" / "b.mp4")
    assert not src.exists() and (tmp_path / "archive" / "b.mp4").read_bytes() == b"clip2"
    src.write_bytes(b"another")
    with pytest.raises(FileExistsError):  # never overwrites
        archive(src, tmp_path / "archive" / "b.mp4")
    assert src.exists()


def test_a_caption_arriving_after_the_archive_is_written_beside_the_clip_where_it_is(tmp_path: Path,
                                                                                    ledger: Ledger) -> None:
    owner = after(tmp_path, ledger, "archive", caption_sidecar="beside")
    clip = tmp_path / "cam" / "gate.mp4"
    row = confirmed(ledger, clip)
    owner.confirmed(ledger.get_by_id(row))  # type: ignore[arg-type]
    told: list[tuple[str | None, str]] = []
    owner.on_caption = lambda path, text: told.append((path, text))
    owner.caption(row, "a fox")
    assert (tmp_path / "archive" / "gate.mp4.caption.txt").read_text() == "a fox\n"
    assert told == [(str(tmp_path / "archive" / "gate.mp4"), "a fox")] and list((tmp_path / "cam").iterdir()) == []


def test_free_name_counts_up(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "a (1).jpg").write_bytes(b"")
    assert free_name(tmp_path / "a.jpg") == tmp_path / "a (2).jpg"
    assert free_name(tmp_path / "b.jpg") == tmp_path / "b.jpg"
    (tmp_path / "c.mp4.caption.txt").write_text("an older clip's caption")
    assert free_name(tmp_path / "c.mp4", (".caption.txt",)) == tmp_path / "c (1).mp4"


def test_a_move_whose_record_was_lost_is_recorded_as_archived_not_as_gone(tmp_path: Path, ledger: Ledger) -> None:
    """A stop (or the ledger's disk full) between the move and its write: the next attempt
    finds the clip at the name chosen for it."""
    clip = tmp_path / "cam" / "clip.mp4"
    row = confirmed(ledger, clip)
    ledger.owe(clip, row, "archive")
    dest = tmp_path / "archive" / "clip.mp4"
    ledger.duty_tried(bytes(clip), dest=bytes(dest))
    dest.parent.mkdir()
    clip.rename(dest)  # what the attempt did before it was cut off
    owner = after(tmp_path, ledger, "archive")
    owner.do(ledger.duties(due_by=ledger._clock()))
    place = ledger.place_of(row)
    assert place is not None and (place.how, place.path) == ("archived", bytes(dest)) and ledger.waiting(1e12) == {}
