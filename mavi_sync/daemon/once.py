"""`mavi-sync sync`: one pass of the daemon's parts, by hand: walk, upload what settles,
follow statuses until final or the time is up."""

from __future__ import annotations

import time
from typing import Callable, Optional

from mavi_sync.captions.receiver import with_callbacks
from mavi_sync.config import Config
from mavi_sync.daemon.wiring import assemble
from mavi_sync.engine.core import Engine
from mavi_sync.fleet import open_ledger
from mavi_sync.ledger.states import State
from mavi_sync.owner.gate import evaluate
from mavi_sync.readout.report import pass_total, progress_line

TICK_S = 0.2  # as the daemon's tick: intake's settling is looked at this often


def sync_once(config: Config, *, timeout_s: float, progress: Optional[Callable[[str], None]] = None) -> Engine:
    """One pass: walk, upload everything that settles, follow statuses until final or
    `timeout_s`; returns the engine (its ledger holds the outcome)."""
    ledger = open_ledger(config)
    parts = assemble(with_callbacks(config, ledger), ledger)
    engine, intake = parts.engine, parts.intake
    # A pass by hand keeps to the byte cap in force now, not to the windows or a pause by
    # hand (those hold the daemon; whoever runs `sync` wants it sent now).
    parts.client.transport.throttle.set(evaluate(config.bandwidth, None, time.time()).rate, None)
    engine.staging.clean()
    started = time.monotonic()
    before = engine.snapshot().finished
    intake.walk()
    engine.start(config.uploads.concurrency)
    most = 0  # the largest total shown: it never jumps back (report.progress_line)

    def show() -> None:
        nonlocal most
        if progress:
            snap = engine.snapshot()
            progress(progress_line(snap, before, time.monotonic() - started, total_floor=most))
            most = max(most, pass_total(snap, before))

    try:
        while time.monotonic() < started + timeout_s and not _settled(engine):
            intake.settle_tick()
            show()
            time.sleep(TICK_S)
        show()
    finally:
        engine.drain(config.uploads.shutdown_grace_s)
        parts.client.close()
    return engine


def _settled(engine: Engine) -> bool:
    """Nothing left to do in this pass: no file settling, queued, in flight or being followed."""
    if engine.settling() or engine.queue.qsize() or engine.counters.in_flight or engine.pause.paused:
        return False
    counts = engine.ledger.counts()
    pending = sum(n for (state, _t), n in counts.items() if state in ("uploaded", "uploading", "discovered"))
    due_now = engine.ledger.due(State.READY, engine.clock(), limit=1)
    return pending == 0 and not due_now
