"""Every pause of all uploads, from its cause to its end: an account that cannot upload, an
API that cannot be reached, a ledger that cannot be written. The one owner of `pause.Pause`
and `pause.Outage`: workers and the follower report what their requests met, the workers
ask `admit` before each file, the scheduler calls `tick` each second while paused.

A trial is a real request. Once the probe interval has passed, one worker may try with its
next file; a file that asks the server nothing (refused, known, unfinished, vanished) hands
the trial on to the next (`release`). When the queue is empty, or no answer has decided the
trial CHECK_AFTER_S after it opened (the queue holds only such files, or the one upload in
flight is slow), the API is asked directly (api/account.py): cheap, documented, with the same key,
read again first, so a key file corrected meanwhile counts. Its answer ends a pause for a
bad or missing key, a disabled account or an outage. "No credits" and "no permission" are
about uploads only, and the security host has a key of its own and nothing cheap to ask:
the check cannot see those end, so only an upload ends them.
"""

from __future__ import annotations

from typing import Callable, Optional

from mavi_sync.api.client import Client
from mavi_sync.errors import AccountError, LedgerError, TransientError
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.engine.pause import Outage, Pause

log = get_logger("mavi_sync.engine.pauses")

LEDGER_PROBE_S = 10.0
CHECK_AFTER_S = 1.0  # the scheduler's tick: a trial no file's request decided by the next one
CHECK_ENDS = frozenset({"bad_key", "no_key", "disabled", "outage"})  # what the account check can end


class Pauses:
    def __init__(self, ledger: Ledger, client: Client, *, clock: Callable[[], float],
                 account_probe_s: Callable[[], float]) -> None:
        self.ledger = ledger
        self.client = client
        self.clock = clock
        self.account_probe_s = account_probe_s  # (the config's, as reloaded)
        self.pause = Pause()
        self.outage = Outage()
        self.fill: Callable[[], None] = lambda: None  # queue what is due: the trial's candidates
        self.queued: Callable[[], int] = lambda: 0  # files queued or settling: candidates still to come
        self.on_ledger_back: Callable[[], None] = lambda: None
        self._checked = True  # the current trial's account check is done (or not needed)
        self._key = "API key"  # the key the account pause is about

    @property
    def paused(self) -> bool:
        return self.pause.paused

    # -- what the requests met ------------------------------------------------------------
    def account_failed(self, exc: AccountError) -> None:
        """Bad key, no credits, disabled: every upload waits (a worker's, the follower's or
        the check's find). Raises LedgerError when the ledger cannot note it."""
        self._key = exc.key
        if self.pause.set(exc.reason, self.clock(), self.account_probe_s(), str(exc)):
            log.error("uploads_paused", reason=exc.reason, error=str(exc), hint=exc.hint)
            self.ledger.set_daemon(paused=exc.reason, paused_detail=str(exc))

    def unreachable(self, detail: str) -> None:
        """The API cannot be reached (pause.Outage said so): every worker waits; trials after
        5 s, then 10, 20… up to 5 min, so a long outage costs a few requests."""
        probe_s = self.outage.probe_s()
        if self.pause.set("outage", self.clock(), probe_s, detail):
            log.error("api_unreachable", error=detail, next_probe_s=probe_s,
                      hint="uploads wait; nothing is marked failed because of it")
        self.ledger.set_daemon(outage=detail, outage_since=str(self.outage.since), paused="outage",
                               paused_detail=detail)

    def answered(self) -> None:
        """A request got through (an upload, or the account check): an outage, or an account
        pause, is over. Kept in memory: a success costs no ledger read."""
        since = self.outage.answered()
        if since is not None:
            log.info("api_recovered", outage_s=round(self.clock() - since, 1))
        current = self.pause.current()
        ended = current is not None and current[0] != "ledger" and self.pause.clear()
        if ended and current is not None and current[0] != "outage":
            log.info("uploads_resumed", reason=current[0])
        if ended or since is not None:
            self.ledger.set_daemon(outage=None, outage_since=None, paused=None, paused_detail=None)

    def ledger_failed(self, exc: LedgerError) -> None:
        if self.pause.set("ledger", self.clock(), LEDGER_PROBE_S, str(exc)):
            log.error("ledger_unwritable", error=str(exc), next_probe_s=LEDGER_PROBE_S,
                      hint=self.ledger.UNWRITABLE_HINT)  # (a disk to free, or a fleet's database to reach)

    # -- the workers ------------------------------------------------------------------------
    def admit(self, timeout: float) -> Optional[int]:
        """None: wait. Else 0 (not paused) or the trial this worker took (hand it to release)."""
        return self.pause.wait(timeout)

    def release(self, ticket: int) -> None:
        """The worker is done with its file: a trial that no answer decided goes to the next."""
        if ticket:
            self.pause.give_back(ticket)

    # -- the scheduler's tick while paused --------------------------------------------------
    def tick(self) -> None:
        """Open a trial when its time has come; ask the API when no file's request decided it.
        Raises LedgerError (the caller pauses for the ledger)."""
        current = self.pause.current()
        if current is None:
            return
        reason, now = current[0], self.clock()
        if reason == "ledger":
            self._ledger_trial(now)
        elif self.pause.trial(now):
            self._checked = False
            if reason == "outage":
                self.outage.trial_opened()
            else:  # an account problem: a key corrected meanwhile is read again
                self.client.keys.forget()
            log.info("uploads_probing", reason=reason)
            self.fill()
            if not self.queued():  # no file to try with: ask at once
                self._checked = True
                self._check(reason)
        elif not self._checked and self.pause.probing and now - self.pause.since >= CHECK_AFTER_S:
            self._checked = True
            self._check(reason)

    def _check(self, reason: str) -> None:
        """The trial no queued file decided: one cheap request with the same key."""
        try:
            self.client.check_account()
        except AccountError as exc:
            if reason == "outage":
                self.answered()  # an answer: the API is there (and says the key is wrong)
            self.account_failed(exc)
            return
        except TransientError as exc:
            if exc.status is not None and reason == "outage":
                self.answered()  # a 5xx or a rate limit is an answer too
            elif reason == "outage" and self.outage.failed(exc, self.clock()):
                self.unreachable(str(exc))
            return  # an account pause stays as it was until the next trial
        if reason == "outage" or reason in CHECK_ENDS and self._key == "API key":
            self.answered()

    def _ledger_trial(self, now: float) -> None:
        if now - self.pause.since < self.pause.probe_s:
            return
        try:
            self.ledger.set_daemon(ledger_probe=str(now))
        except LedgerError:
            self.pause.set("ledger", now, LEDGER_PROBE_S)
            self.pause.since = now
            return
        log.info("ledger_writable_again")
        self.pause.clear()
        self.on_ledger_back()
