"""The SQLite ledger on real files: migrations, WAL, threads, paths and transitions."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from mavi_sync.errors import ClaimLost, IllegalTransition, LedgerError
from mavi_sync.ledger.location import default_ledger_path
from mavi_sync.ledger.schema import MIGRATIONS
from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State


@pytest.fixture
def ledger(opener):  # type: ignore[no-untyped-def]
    with opener() as led:
        yield led


def test_fresh_file_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
    assert ledger.schema_version() == len(MIGRATIONS)
    mode = sqlite3.connect(ledger.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert ledger.integrity_check() == "ok"
    ledger.close()


def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as led:
        led.add("a" * 64, "video", "default", 10)
    with Ledger(path) as led:
        assert led.schema_version() == len(MIGRATIONS)
        assert led.get("a" * 64, "video", "default") is not None


def test_a_ledger_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.close()
    with pytest.raises(LedgerError, match="newer than this mavi-sync knows"):
        Ledger(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 5


def test_content_key_is_per_target_and_namespace(ledger: Ledger) -> None:
    a = ledger.add("a" * 64, "video", "default", 10, metadata={"camera_model": "X"}, capture_time="2025-10-20T11:00:00+02:00")
    again = ledger.add("a" * 64, "video", "default", 10)
    other = ledger.add("a" * 64, "asset", "default", 10)
    elsewhere = ledger.add("a" * 64, "video", "garden", 10)
    assert a.id == again.id and len({a.id, other.id, elsewhere.id}) == 3
    assert a.state is State.DISCOVERED and a.metadata == {"camera_model": "X"}
    assert a.capture_time == "2025-10-20T11:00:00+02:00"


def test_transitions_are_checked_and_record_changes(ledger: Ledger) -> None:
    row = ledger.add("b" * 64, "video", "default", 10)
    row = ledger.transition(row.id, State.READY)
    row = ledger.transition(row.id, State.UPLOADING, attempts=1)
    row = ledger.transition(row.id, State.UPLOADED, remote_id="VI1", remote_status="UNPARSE")
    assert (row.state, row.remote_id, row.attempts) == (State.UPLOADED, "VI1", 1)
    with pytest.raises(IllegalTransition):
        ledger.transition(row.id, State.READY)
    assert ledger.get_by_id(row.id).state is State.UPLOADED  # unchanged by the refused move
    with pytest.raises(ValueError):
        ledger.transition(row.id, State.CONFIRMED, sha256="x")


def test_a_claim_is_won_once_even_by_racing_threads(opener) -> None:  # type: ignore[no-untyped-def]
    ledgers = [opener() for _ in range(8)]  # one connection each, as separate processes (or nodes)
    row = ledgers[0].transition(ledgers[0].add("c" * 64, "image", "default", 10).id, State.READY)
    won: list[int] = []
    lost: list[str] = []
    start = threading.Barrier(len(ledgers))

    def claim(i: int) -> None:
        start.wait()
        try:
            ledgers[i].transition(row.id, State.UPLOADING, expect=(State.READY, 0), attempts=1)
            won.append(i)
        except ClaimLost as exc:
            lost.append(str(exc))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(ledgers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1 and len(lost) == len(ledgers) - 1
    assert "is uploading (attempt 1), not ready (attempt 0)" in lost[0]
    for ledger in ledgers:
        ledger.close()


def test_paths_remember_stat_and_survive_odd_names(ledger: Ledger, tmp_path: Path) -> None:
    name = os.fsdecode(b"clip \xff\xfe\nnew.mp4")  # not UTF-8, with a newline
    path = tmp_path / name
    path.write_bytes(b"data")
    row = ledger.add("c" * 64, "video", "default", 4)
    ledger.record_path(path, "c" * 64, path.stat(), "/cams", row.id)
    record = ledger.lookup_path(path)
    assert record is not None and record.matches(path.stat()) and record.sha256 == "c" * 64
    assert ledger.paths_of(row.id) == [os.fsencode(path)]
    path.write_bytes(b"changed!")
    assert not record.matches(path.stat())
    ledger.forget_path(path)
    assert ledger.lookup_path(path) is None


def test_threads_share_one_ledger(ledger: Ledger) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                row = ledger.add(f"{n:02d}{i:062d}", "image", "default", i)
                ledger.transition(row.id, State.READY)
                ledger.transition(row.id, State.UPLOADING)
                ledger.transition(row.id, State.CONFIRMED, remote_id=str(i))
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert ledger.counts() == {("confirmed", "image"): 200}
    assert ledger.integrity_check() == "ok"


def test_counts_neither_wait_for_nor_see_a_write_in_progress(ledger: Ledger) -> None:
    """Counts (heartbeats, start-up) read on a connection of their own: a transaction
    holding the ledger's lock does not make them wait, and they see only what is committed."""
    ledger.add("a" * 64, "video", "default", 1)
    seen: list[dict] = []
    with ledger._tx() as db:  # the lock the walk and the workers take, held
        db.execute("INSERT INTO files (sha256, target, namespace, size, state, created_at, updated_at) "
                   "VALUES (?, 'image', 'default', 1, 'discovered', 0, 0)", ("b" * 64,))
        reader = threading.Thread(target=lambda: seen.append(ledger.counts()))
        reader.start()
        reader.join(timeout=30)
        assert not reader.is_alive(), "counts() waited for the ledger's lock"
    assert seen == [{("discovered", "video"): 1}]
    assert ledger.counts() == {("discovered", "video"): 1, ("discovered", "image"): 1}


def test_listing_by_state_and_target(ledger: Ledger) -> None:
    for i, target in enumerate(("video", "image", "image")):
        ledger.add(f"{i:064d}", target, "default", 1)
    assert len(ledger.files(target="image")) == 2
    assert len(ledger.files(state=State.DISCOVERED, target="video")) == 1
    assert ledger.files(state=State.CONFIRMED) == []


def test_unwritable_location_is_a_ledger_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LedgerError, match="cannot create the ledger's directory"):
        Ledger(blocker / "sub" / "ledger.sqlite3")


def test_default_path() -> None:
    assert default_ledger_path({"STATE_DIRECTORY": "/var/lib/mavi-sync"}) == Path("/var/lib/mavi-sync/ledger.sqlite3")
    assert default_ledger_path({}).name == "ledger.sqlite3"


def test_processes_opening_a_new_ledger_together_migrate_it_once(tmp_path: Path) -> None:
    """The daemon and `mavi-sync status` may create the ledger at the same moment: switching
    a new file to WAL then fails at once with "database is locked" (1 open in 8 failed
    before the open was retried). Processes are started first, then released together."""
    import subprocess
    import sys
    import time
    trials, per_trial = 8, 3
    for trial in range(trials):
        path = tmp_path / f"ledger{trial}.sqlite3"
        go = tmp_path / f"go{trial}"
        code = (f"import os, time\nfrom mavi_sync.ledger.store import Ledger\n"
                f"while not os.path.exists({str(go)!r}): time.sleep(0.001)\n"
                f"Ledger({str(path)!r}).close()")
        procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
                 for _ in range(per_trial)]
        time.sleep(0.5)  # all imported and waiting
        go.touch()
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * per_trial, errors
        with Ledger(path) as ledger:
            assert ledger.schema_version() == len(MIGRATIONS) and ledger.integrity_check() == "ok"


def test_skipped_paths_are_recorded_once_and_cleared_when_they_hold_content(ledger: Ledger, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    assert ledger.skip(fifo, "not a regular file") is True
    assert ledger.skip(fifo, "not a regular file") is False  # not news: logged once
    assert ledger.skip(fifo, "cannot read") is True  # a new reason is news
    assert [(os.fsdecode(p), r) for p, r, _ in ledger.skipped()] == [(str(fifo), "cannot read")]
    fifo.write_bytes(b"now a file")
    ledger.record_path(fifo, "d" * 64, fifo.stat(), str(tmp_path))
    assert ledger.skipped_count() == 0


def test_known_in_lists_one_directory_only(ledger: Ledger, tmp_path: Path) -> None:
    """The walk's per-directory read: direct children only, not the subdirectories' files nor
    those of sibling directories whose names start the same, and odd names intact."""
    odd = os.fsdecode(b"clip \xff.mp4")
    files = [tmp_path / "cam" / "a.jpg", tmp_path / "cam" / odd, tmp_path / "cam" / "2024" / "deep.jpg",
             tmp_path / "cam2" / "sibling.jpg", tmp_path / "cam-x" / "dash.jpg"]
    for i, path in enumerate(files):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * i)
        ledger.record_path(path, f"{i:064x}", path.stat(), str(tmp_path))
    known = ledger.known_in(tmp_path / "cam")
    assert set(known) == {"a.jpg", odd}
    st = (tmp_path / "cam" / odd).stat()
    assert known[odd] == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    assert set(ledger.known_in(str(tmp_path / "cam") + "/")) == {"a.jpg", odd}
    assert ledger.known_in(tmp_path / "nowhere") == {}


def test_a_directory_mark_is_gone_after_any_path_write_in_that_directory(ledger: Ledger, tmp_path: Path) -> None:
    """The mark vouches for the directory's ledger rows: a write to any of them drops it, a
    write next door (a subdirectory, a sibling named alike) does not."""
    cam = tmp_path / "cam"
    (cam / "sub").mkdir(parents=True)
    (tmp_path / "cam2").mkdir()
    files = {name: cam / name for name in ("a.jpg", os.fsdecode(b"b\xff.jpg"))}
    for path in [*files.values(), cam / "sub" / "deep.jpg", tmp_path / "cam2" / "c.jpg"]:
        path.write_bytes(b"x")
    for extreme in (-(1 << 63), (1 << 63) - 1):  # the whole signed 64-bit range round-trips
        ledger.set_mark(cam, extreme, 2)
        assert ledger.mark_of(str(cam) + "/") == extreme
    writes = [lambda p: ledger.record_path(p, "d" * 64, p.stat(), str(tmp_path)), ledger.forget_path]
    for write in writes:
        for path in files.values():
            ledger.set_mark(cam, 42, 2)
            write(cam / "sub" / "deep.jpg")
            write(tmp_path / "cam2" / "c.jpg")
            assert ledger.mark_of(cam) == 42
            write(path)
            assert ledger.mark_of(cam) is None


def test_an_unchanged_skip_is_rewritten_at_most_daily(tmp_path: Path) -> None:
    """Every rescan meets the same links and FIFOs: no write per path per rescan."""
    now = [1000.0]
    with Ledger(tmp_path / "l.sqlite3", clock=lambda: now[0]) as led:
        led.skip(tmp_path / "link.jpg", "a symlink")
        now[0] += 3600
        assert led.skip(tmp_path / "link.jpg", "a symlink") is False
        assert led.skipped()[0][2] == 1000.0  # not rewritten
        now[0] += 86400
        led.skip(tmp_path / "link.jpg", "a symlink")
        assert led.skipped()[0][2] == now[0]  # refreshed once the day is up


def test_pruning_marks_drops_only_directories_under_the_root_that_were_not_kept(ledger: Ledger, tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    dirs = [cam, cam / "2024-01-01", cam / "2024-01-01" / "00", cam / "2024-01-02", tmp_path / "cam2",
            tmp_path / "cam-old", tmp_path]
    for n, d in enumerate(dirs):
        ledger.set_mark(d, n, 1)
    assert ledger.prune_marks(cam, [str(cam), str(cam / "2024-01-01")]) == 2
    assert ledger.mark_of(cam / "2024-01-01" / "00") is None and ledger.mark_of(cam / "2024-01-02") is None
    # Kept, and outside the root (a sibling whose name starts the same, the parent): untouched.
    assert [ledger.mark_of(d) for d in (cam, cam / "2024-01-01", tmp_path / "cam2", tmp_path / "cam-old", tmp_path)] \
        == [0, 1, 4, 5, 6]
    assert ledger.prune_marks(cam, [str(cam), str(cam / "2024-01-01")]) == 0


def test_a_companion_row_has_its_files_paths_and_goes_with_it_unless_sent(ledger: Ledger, tmp_path: Path) -> None:
    """A motion photo's clip (live_photos = "both") is a second row made from one file: it
    shows the file's path, the file is done only when both are confirmed, and a file gone
    before anything was sent takes both rows with it."""
    photo = tmp_path / "PXL.MP.jpg"
    photo.write_bytes(b"x" * 10)
    still = ledger.register(photo, photo.stat(), str(tmp_path), "c" * 64, "image", "default")
    clip = ledger.companion(still.id, "c" * 64, "video", "default", 5, media_type="video")
    assert clip.id != still.id and clip.state is State.READY
    assert ledger.companion(still.id, "c" * 64, "video", "default", 5).id == clip.id  # once
    assert ledger.path_of(clip.id) == ledger.path_of(still.id) == os.fsencode(photo)
    assert ledger.paths_of(clip.id) == [os.fsencode(photo)]
    assert [r.id for r in ledger.parts(still.id)] == [clip.id]
    for row in (still, clip):
        ledger.transition(row.id, State.UPLOADING)
    ledger.transition(still.id, State.CONFIRMED, remote_id="1")
    assert not ledger.all_parts_confirmed(still.id) and not ledger.all_parts_confirmed(clip.id)
    ledger.transition(clip.id, State.CONFIRMED, remote_id="VI1")
    assert ledger.all_parts_confirmed(still.id) and ledger.all_parts_confirmed(clip.id)
    other = tmp_path / "other.MP.jpg"
    other.write_bytes(b"y" * 10)
    gone = ledger.register(other, other.stat(), str(tmp_path), "d" * 64, "image", "default")
    gone_clip = ledger.companion(gone.id, "d" * 64, "video", "default", 5)
    ledger.forget_path(other)
    assert ledger.get_by_id(gone.id) is None and ledger.get_by_id(gone_clip.id) is None


def _row(ledger: Ledger, path: Path, sha: str, *states: State, **fields: object) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sha.encode())
    row = ledger.register(path, path.stat(), str(path.parent), sha, "video", "default")
    for state in states:
        ledger.transition(row.id, state, **fields)
    return row.id


def test_every_row_keeps_a_place_when_no_watched_path_holds_its_bytes(ledger: Ledger, tmp_path: Path) -> None:
    """docs/design/daemon.md "The ledger": every row says where its bytes are. A row that may
    be on the server outlives its path: it says where the bytes went and why, and stops
    being pending."""
    cam = tmp_path / "cam"
    archived = _row(ledger, cam / "a.mp4", "a" * 64, State.UPLOADING, State.CONFIRMED)
    ledger.owe(cam / "a.mp4", archived, "archive")
    ledger.duty_done(os.fsencode(cam / "a.mp4"), "archived", os.fsencode(tmp_path / "archive" / "a.mp4"))
    deleted = _row(ledger, cam / "d.mp4", "d" * 64, State.UPLOADING, State.CONFIRMED)
    ledger.duty_done(os.fsencode(cam / "d.mp4"), "deleted")
    cut = _row(ledger, cam / "cut.mp4", "c" * 64, State.UPLOADING, State.READY, lookup_due=1)  # maybe sent
    ledger.forget_path(cam / "cut.mp4")
    _row(ledger, cam / "never.mp4", "e" * 64)
    ledger.forget_path(cam / "never.mp4")
    grown = _row(ledger, cam / "grown.mp4", "f" * 64, State.UPLOADING, State.READY, lookup_due=1)
    _row(ledger, cam / "grown.mp4", "0" * 64)  # the same path, longer now: other content
    places = {i: ledger.place_of(i) for i in (archived, deleted, cut, grown)}
    assert {i: (p.how, p.describe()) for i, p in places.items() if p} == {
        archived: ("archived", f"{tmp_path / 'archive' / 'a.mp4'} (archived)"),
        deleted: ("deleted", f"{cam / 'd.mp4'} (deleted after upload)"),
        cut: ("gone", f"{cam / 'cut.mp4'} (no longer there)"),
        grown: ("replaced", f"{cam / 'grown.mp4'} (the path holds newer content now)")}
    assert places[archived].as_json()["was"] == str(cam / "a.mp4")  # type: ignore[union-attr]
    assert ledger.get("e" * 64, "video", "default") is None  # never sent: forgotten, not kept without a place
    assert {ledger.get_by_id(i).state for i in (cut, grown)} == {State.VANISHED}  # type: ignore[union-attr]
    assert ledger.get_by_id(cut).lookup_due  # type: ignore[union-attr]  # found again: looked up first
    assert ledger.duties(file_id=archived) == []
    _row(ledger, cam / "again" / "a.mp4", "a" * 64)  # the same bytes watched again: that is where they are
    assert ledger.place_of(archived).how == "watched"  # type: ignore[union-attr]


def test_a_folder_dropped_by_a_reload_forgets_what_was_not_sent(ledger: Ledger, tmp_path: Path) -> None:
    cam, other = tmp_path / "cam", tmp_path / "cam-other"
    sent = _row(ledger, cam / "sent.mp4", "a" * 64, State.UPLOADING, State.CONFIRMED)
    ledger.owe(cam / "sent.mp4", sent, "delete")
    _row(ledger, cam / "bad.mp4", "b" * 64, State.REJECTED, last_error="not media")
    _row(ledger, cam / "ready.mp4", "c" * 64)
    maybe = _row(ledger, cam / "maybe.mp4", "d" * 64, State.UPLOADING, State.READY, lookup_due=1)
    elsewhere = _row(ledger, other / "x.mp4", "e" * 64)
    ledger.set_mark(cam, 1, 4)
    ledger.skip(cam / "fifo", "a FIFO")
    assert ledger.forget_folder(str(cam)) == 3
    assert [ledger.get(c * 64, "video", "default") for c in "bc"] == [None, None]
    assert ledger.place_of(sent).how == "watched"  # type: ignore[union-attr]  # sent: its bytes are still there
    assert ledger.duties(file_id=sent) == []  # never touched on disk any more
    assert (ledger.get_by_id(maybe).state, ledger.place_of(maybe).how) == (State.VANISHED, "left")  # type: ignore[union-attr]
    assert ledger.place_of(elsewhere).how == "watched"  # type: ignore[union-attr]
    assert ledger.mark_of(cam) is None and ledger.skipped() == []


def test_duties_are_owed_once_tried_with_their_error_and_found_when_missing(ledger: Ledger, tmp_path: Path) -> None:
    cam = tmp_path / "cam"
    a = _row(ledger, cam / "a.mp4", "a" * 64, State.UPLOADING, State.CONFIRMED)
    b = _row(ledger, cam / "b.mp4", "b" * 64, State.UPLOADING, State.CONFIRMED)
    _row(ledger, cam / "c.mp4", "c" * 64)  # not on the server: nothing owed
    assert sorted(ledger.unowed(str(cam))) == [(os.fsencode(cam / "a.mp4"), a), (os.fsencode(cam / "b.mp4"), b)]
    assert ledger.owe(cam / "a.mp4", a, "archive") and not ledger.owe(cam / "a.mp4", a, "archive")
    assert ledger.unowed(str(cam)) == [(os.fsencode(cam / "b.mp4"), b)]
    [duty] = ledger.duties(due_by=1e12)
    ledger.duty_tried(duty.path, dest=b"/archive/a.mp4")
    ledger.duty_tried(duty.path, error="Read-only file system", next_at=duty.next_at + 10)
    assert ledger.duties(due_by=duty.next_at + 5) == []
    [again] = ledger.duties(file_id=a)
    assert (again.attempts, again.last_error, again.dest) == (1, "Read-only file system", b"/archive/a.mp4")
    [(n, oldest)] = ledger.waiting(duty.next_at + 5).values()
    assert n == 1 and oldest.path == duty.path


def test_a_ledger_of_schema_9_gains_duties_and_places(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:9]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 9")
    db.close()
    with Ledger(path) as led:
        assert led.schema_version() == len(MIGRATIONS) and led.waiting(0.0) == {}
