"""When to tell the owner, and the health check ping: the daemon calls `tick` every second
and `caption` when a security caption arrives; each episode is told once, when it begins
and when it ends (not per file, not per retry).

It reads the engine's state (like the metrics do) instead of being called from every place
that decides something: an account pause or a ledger that cannot be written is the pause's
reason, an outage is its start time, failures are the ledger's `failed` rows. Episodes the
ledger can hold (an account pause, a long outage, what was told last) survive a restart, so
a restart in the middle of one does not tell it twice.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from mavi_sync.owner import alerts
from mavi_sync.config.schema import Config, KeySource
from mavi_sync.config.secrets import Secret, resolve_key
from mavi_sync.owner.courier import Courier, Target, fail_url
from mavi_sync.errors import MaviSyncError
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.owner.oversight")
FAILED_SCAN_S = 10.0
NOT_ACCOUNT = ("outage", "ledger")  # pause reasons that are not the account's


@dataclass(frozen=True)
class Watched:
    """What oversight reads, handed in by the daemon."""

    pause: Callable[[], Optional[tuple[str, str]]]  # the automatic pause's (reason, detail), or None
    outage_since: Callable[[], Optional[float]]
    uploads: Callable[[], int]  # uploads that went through since start


def resolve_urls(config: Config) -> tuple[list[Target], Optional[Secret], Optional[Secret]]:
    """The notification targets and ping URLs that can be read now; each that cannot is
    logged (where it was looked for, never a value) and left out."""
    targets = []
    for i, target in enumerate(config.notify.targets):
        url = _resolve(target.url, f"notification URL {i + 1}", f"notify.targets[{i}].url")
        if url is not None:
            targets.append(Target(i + 1, url, target.events))
    ping = _resolve(config.health.ping, "health ping URL", "health.ping") if config.health.ping.is_set() else None
    fail = _resolve(config.health.fail, "health fail URL", "health.fail") if config.health.fail.is_set() else None
    if ping is not None and fail is None:
        fail = Secret(fail_url(ping.reveal()), ping.origin + " + /fail")
    return targets, ping, fail


def _resolve(source: KeySource, name: str, key_path: str) -> Optional[Secret]:
    try:
        return resolve_key(source, name, key_path=key_path)
    except MaviSyncError as exc:
        log.error("notify_url_missing", what=name, error=str(exc), hint=exc.hint)
        return None


class Oversight:
    def __init__(self, config: Config, ledger: Ledger, watched: Watched, *,
                 secrets: Callable[[], list[str]] = list, clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self.watched = watched
        self.clock = clock
        self.host = socket.gethostname()
        self._key_secrets = secrets
        self.courier = Courier([], secrets=self._all_secrets).start()
        self._ping: Optional[Secret] = None
        self._fail: Optional[Secret] = None
        self.reconfigure(config)
        self._pinged_at = 0.0
        self._scanned_at = 0.0
        self._ledger_since: Optional[float] = None  # in memory: the ledger cannot hold it
        self._uploads_at_open = 0

    def reconfigure(self, config: Config) -> None:
        self.config = config
        targets, self._ping, self._fail = resolve_urls(config)
        self.courier.targets = targets

    def _all_secrets(self) -> list[str]:
        urls = [t.url.reveal() for t in self.courier.targets] + [s.reveal() for s in (self._ping, self._fail) if s]
        return self._key_secrets() + urls

    def stop(self) -> None:
        self.courier.stop()

    # -- hooks ------------------------------------------------------------------------------
    def caption(self, path: Optional[str], text: str) -> None:
        """A security clip's caption: told when it names a watched word."""
        words = alerts.matched_words(text, self.config.notify.caption_words)
        if words:
            self.courier.send(alerts.caption_matched(self.host, path, text, words))

    # -- the daemon's tick ---------------------------------------------------------------------
    def tick(self, daemon: Optional[dict[str, tuple[str, float]]] = None) -> None:
        """`daemon`: the ledger's daemon table, if the caller has just read it."""
        now = self.clock()
        pause = self.watched.pause()
        self._ledger_episode(pause, now)
        try:
            told = self.ledger.daemon() if daemon is None else daemon
            self._account_episode(pause, told, now)
            self._outage_episode(told, now)
            if now - self._scanned_at >= FAILED_SCAN_S:
                self._scanned_at = now
                self._failures(told, now)
            self._digest(told, now)
        except MaviSyncError as exc:  # an unwritable ledger is told by its own episode
            log.debug("oversight_skipped", error=str(exc))
        self._health(pause, now)

    def _account_episode(self, pause: Optional[tuple[str, str]], told: dict[str, tuple[str, float]],
                         now: float) -> None:
        episode = json.loads(told["told_account"][0]) if "told_account" in told else None
        if pause is not None and pause[0] not in NOT_ACCOUNT:
            if episode is None:
                self._uploads_at_open = self.watched.uploads()
                self.ledger.set_daemon(told_account=json.dumps({"reason": pause[0], "since": now}))
                self.courier.send(alerts.account_paused(self.host, pause[0], pause[1], _hint(pause[0])))
            return
        if episode is not None and self.watched.uploads() > self._uploads_at_open:
            self.ledger.set_daemon(told_account=None)
            self.courier.send(alerts.account_resumed(self.host, episode["reason"], episode["since"], now))

    def _outage_episode(self, told: dict[str, tuple[str, float]], now: float) -> None:
        since = self.watched.outage_since()
        episode = float(told["told_outage"][0]) if "told_outage" in told else None
        if since is not None and episode is None and now - since >= self.config.notify.outage_after_s:
            self.ledger.set_daemon(told_outage=repr(since))
            detail = (told.get("outage") or ("no answer", 0))[0]
            self.courier.send(alerts.outage_began(self.host, since, now, detail))
        elif since is None and episode is not None and self.watched.uploads() > 0:
            self.ledger.set_daemon(told_outage=None)
            self.courier.send(alerts.outage_ended(self.host, episode, now))

    def _ledger_episode(self, pause: Optional[tuple[str, str]], now: float) -> None:
        if pause is not None and pause[0] == "ledger" and self._ledger_since is None:
            self._ledger_since = now
            self.courier.send(alerts.ledger_unwritable(self.host, pause[1]))
        elif (pause is None or pause[0] != "ledger") and self._ledger_since is not None:
            self.courier.send(alerts.ledger_writable(self.host, self._ledger_since, now))
            self._ledger_since = None

    def _failures(self, told: dict[str, tuple[str, float]], now: float) -> None:
        if not self.courier.wants("failed"):
            return
        if "told_failed_upto" not in told:  # first start: what failed before is not news
            self.ledger.set_daemon(told_failed_upto=repr(now))
            return
        upto = float(told["told_failed_upto"][0])
        failed = self.ledger.failed_since(upto)
        if failed:
            self.ledger.set_daemon(told_failed_upto=repr(failed[-1][0]))
            self.courier.send(alerts.files_failed(self.host, [(os.fsdecode(p) if p else "?", e) for _, p, e in failed]))

    def _digest(self, told: dict[str, tuple[str, float]], now: float) -> None:
        at = self.config.notify.digest_at
        if not at or not self.courier.wants("digest"):
            return
        if "told_digest_at" not in told:
            self.ledger.set_daemon(told_digest_at=repr(now))
            return
        last = float(told["told_digest_at"][0])
        if now >= next_time(at, last):
            self.ledger.set_daemon(told_digest_at=repr(now))
            self.courier.send(alerts.digest(self.host, self.ledger.digest(last), now))

    def _health(self, pause: Optional[tuple[str, str]], now: float) -> None:
        if self._ping is None or now - self._pinged_at < self.config.health.interval_s:
            return
        self._pinged_at = now
        healthy = pause is None
        url = self._ping if healthy else self._fail
        if url is not None:
            self.courier.ping(url, healthy)


def next_time(clock: str, after: float) -> float:
    """The first local `HH:MM[:SS]` after the moment `after`."""
    parts = [int(x) for x in clock.split(":")] + [0]
    moment = datetime.fromtimestamp(after)
    due = moment.replace(hour=parts[0], minute=parts[1], second=parts[2], microsecond=0)
    if due <= moment:
        due += timedelta(days=1)
    return due.timestamp()


def _hint(reason: str) -> str:
    return {"bad_key": "Check the API key (mavi-sync check-config), then restart or reload the service.",
            "no_key": "Give the service its API key (systemd credential, key file or environment).",
            "no_credits": "Add credits to the memories.ai account; uploads resume by themselves.",
            "disabled": "Ask memories.ai why the account is disabled."}.get(reason, "See mavi-sync status.")
