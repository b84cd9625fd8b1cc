"""Following uploaded files' remote status until memories.ai confirms or fails them.

One poll = one question to the server, one decision (`outcome.decide_status`), one ledger
write. The daemon runs `Follower.run` on a thread (every uploaded file whose poll time has
come); `mavi-sync upload` calls `Follower.follow` for the files it just sent and waits.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Optional

from mavi_sync.api.client import Client
from mavi_sync.pipeline import events
from mavi_sync.api.model import DONE
from mavi_sync.errors import AccountError, MaviSyncError, TransientError
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.pipeline.outcome import RetryRules, decide_poll_error, decide_status
from mavi_sync.ledger.states import State

log = get_logger("mavi_sync.pipeline.follower")

BATCH = 50  # rows polled per pass: a backlog of thousands never starves the stop check
TICK_S = 0.5


def _never() -> bool:
    return False


def _raise(exc: AccountError) -> None:
    raise exc


class Follower:
    """Polls the server for uploaded files and records what it says.

    `on_account_error` is told when the account cannot be used (the daemon pauses; by
    default it is raised, as a one-off command wants);
    `on_confirmed` gets each row the server confirmed (the folder's after-upload action);
    `paused` is asked before each poll (no polling while everything waits)."""

    def __init__(self, ledger: Ledger, client: Client, rules: RetryRules, *, clock: Callable[[], float],
                 stop: threading.Event, on_account_error: Callable[[AccountError], None] = _raise,
                 on_confirmed: Callable[[FileRecord], None] = lambda record: None,
                 paused: Callable[[], bool] = _never) -> None:
        self.ledger = ledger
        self.client = client
        self.rules = rules
        self.clock = clock
        self.stop = stop
        self.on_account_error = on_account_error
        self.on_confirmed = on_confirmed
        self.paused = paused

    def run(self, draining: threading.Event) -> None:
        """The daemon's loop: poll what is due every TICK_S until stopped or draining."""
        while not self.stop.wait(TICK_S):
            if draining.is_set():
                return
            try:
                self.follow_due()
            except MaviSyncError as exc:  # the ledger or a bug: the loop goes on, the next pass retries
                log.error("follower_error", error=str(exc), error_type=exc.__class__.__name__)

    def follow_due(self) -> int:
        """Poll every uploaded file whose time has come; returns how many were due."""
        records = self.ledger.due(State.UPLOADED, self.clock(), column="next_poll_at", limit=BATCH)
        for record in records:
            if self.stop.is_set() or self.paused():
                break
            self.poll(record)
        return len(records)

    def poll(self, record: FileRecord, now: Optional[float] = None) -> FileRecord:
        """Ask the server once about `record` and write the answer; returns the row after it."""
        assert record.remote_id is not None
        now = self.clock() if now is None else now
        try:
            status = self.client.status(record.target, record.remote_id, record.namespace)
        except AccountError as exc:
            self.on_account_error(exc)
            return record
        except TransientError as exc:
            change = decide_poll_error(record, exc, self.rules, now)
            return self.ledger.transition(record.id, change.state, **change.fields)
        change = decide_status(record, status, self.rules, now)
        updated = self.ledger.transition(record.id, change.state, **change.fields)
        events.status_logged(self._path(record), record, updated, status.raw, status.cause)
        if status.state == DONE:
            self.on_confirmed(updated)
        return updated

    def follow(self, record: FileRecord) -> FileRecord:
        """Poll `record` until it is final or the give-up time has passed since its upload
        (then it stays `uploaded`, flagged); the wait between polls as in the daemon."""
        give_up_at = (record.uploaded_at or self.clock()) + self.rules.poll.give_up_s
        while record.state is State.UPLOADED and not self.stop.is_set():
            now = self.clock()
            record = self.poll(record, now)
            if record.state is not State.UPLOADED or now > give_up_at:
                break
            now = self.clock()
            # One poll more just after the give-up time, so that it is the one that flags it.
            wake = min(record.next_poll_at or now, give_up_at + 1e-3)
            if self.stop.wait(max(0.0, wake - now)):
                break
        return record

    def _path(self, record: FileRecord) -> Optional[str]:
        raw = self.ledger.path_of(record.id)
        return os.fsdecode(raw) if raw else None
