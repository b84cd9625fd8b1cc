"""What the page's buttons do: pause (for a time), resume, retry a failed file. Through
the owners the command line uses, never a second way: a pause by hand is written to the
ledger by gate.py (as `mavi-sync pause` does), and the running daemon's gate holds uploads
within a second; a retry is outcome.py's decision, applied as `mavi-sync retry` applies it.
"""

from __future__ import annotations

import os
from typing import Mapping

from mavi_sync.errors import ClaimLost
from mavi_sync.owner.gate import hand_pause, pause_by_hand, resume_by_hand
from mavi_sync.ledger.store import Ledger
from mavi_sync.pipeline.outcome import decide_retry
from mavi_sync.owner.timetable import TimetableError, parse_duration

ACTIONS = ("pause", "resume", "retry")
LONGEST_PAUSE_S = 365 * 86400.0


class BadAction(Exception):
    """The form asks for something that cannot be done (a 400 or a 404, with the reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def act(name: str, form: Mapping[str, str], ledger: Ledger, by: str, now: float) -> str:
    """Do action `name` with `form`'s fields; what was done, as a person reads it. Raises BadAction."""
    if name == "pause":
        return _pause(form.get("for", "").strip(), ledger, by, now)
    if name == "resume":
        hand = hand_pause(ledger.daemon())
        if hand is None:
            return "not paused by hand: nothing to resume"
        resume_by_hand(ledger)
        return f"resumed (was {hand.describe(now)})"
    if name == "retry":
        return _retry(form.get("file", ""), ledger)
    raise BadAction(404, f"no action {name!r} (there are {', '.join(ACTIONS)})")


def _pause(text: str, ledger: Ledger, by: str, now: float) -> str:
    until = None
    if text:
        try:
            seconds = parse_duration(text)
        except TimetableError as exc:
            raise BadAction(400, str(exc)) from None
        if not 0 < seconds <= LONGEST_PAUSE_S:
            raise BadAction(400, f"{text!r}: a pause longer than 0 and at most a year")
        until = now + seconds
    pause_by_hand(ledger, by, now, until)
    hand = hand_pause(ledger.daemon())
    return hand.describe(now) if hand is not None else "paused by hand"


def _retry(text: str, ledger: Ledger) -> str:
    if not text.isdigit() or len(text) > 18:
        raise BadAction(400, f"file {text[:40]!r}: a file's number from the page")
    record = ledger.get_by_id(int(text))
    if record is None:
        raise BadAction(404, f"no file {text} in the ledger")
    raw = ledger.path_of(record.id)
    name = os.fsdecode(raw) if raw is not None else f"file {record.id}"
    change = decide_retry(record)
    if change is None:
        return f"{name}: {record.state.value}, nothing to retry"
    try:  # only as it was read: the daemon's cool-down may have moved it meanwhile
        ledger.transition(record.id, change.state, expect=(record.state, record.attempts), **change.fields)
    except ClaimLost:
        return f"{name} changed meanwhile: see its state now"
    return f"{name} will be tried again"
