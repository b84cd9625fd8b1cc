"""Renderings people read: the `sync` progress bar."""

from __future__ import annotations

from mavi_sync.engine.snapshot import Snapshot
from mavi_sync.readout.report import progress_line


def snap(**kw: object) -> Snapshot:
    base = dict(queued=0, uploading=0, following=0, confirmed=0, failed=0, rejected=0, bytes_sent=0, paused=None)
    return Snapshot(**{**base, **kw})  # type: ignore[arg-type]


def test_the_bar_counts_only_this_pass() -> None:
    # 5 files were confirmed by an earlier run; this pass found 4: 1 done, 1 uploading, 2 waiting.
    line = progress_line(snap(queued=2, uploading=1, confirmed=6, bytes_sent=3_000_000), 5, 2.0, width=8)
    assert line == "[##------] 1/4 files  3.0 MB 1.5 MB/s  sending 1  confirming 0  failed 0"


def test_the_bar_is_full_when_nothing_is_left_and_never_overflows() -> None:
    assert progress_line(snap(confirmed=3, rejected=1), 0, 1.0, width=4).startswith("[####] 4/4 files")
    assert progress_line(snap(), 0, 0.0, width=4).startswith("[####] 0/0 files")
    # A baseline above the current count (files retried out of `failed`) cannot go negative.
    assert progress_line(snap(queued=1), 3, 1.0, width=4).startswith("[----] 0/1 files")


def test_a_pause_is_shown() -> None:
    # First, since a narrow terminal cuts the end of the line off.
    assert progress_line(snap(queued=1, paused="no_credits"), 0, 1.0).startswith("PAUSED: no_credits  [")
