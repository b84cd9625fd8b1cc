"""Delivery of notices (through Apprise) and health pings, from one thread of their own.

Apprise is the library self-hosted tools use for this: one URL format for ntfy, Gotify,
Telegram, e-mail, Slack, Home Assistant, Matrix, webhooks and ~100 more, each written and
kept up by people who use that service. It is imported only when a target is configured.

Nothing here may hold up an upload: `send` and `ping` only queue (a bounded queue; when
full, the notice is dropped and logged); the thread delivers with timeouts. URLs carry
tokens: only their scheme (the service) is ever logged, Apprise's own log lines are
silenced (they can name hosts and paths), and every text is scrubbed of the secrets
(API keys, URLs) before it leaves.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

import requests

from mavi_sync import __version__
from mavi_sync.owner.alerts import Notice
from mavi_sync.config.secrets import Secret
from mavi_sync.config.unattended import service_name
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.owner.courier")
QUEUE_SIZE = 100
PING_TIMEOUT = (5.0, 10.0)


@dataclass(frozen=True)
class Target:
    number: int  # 1-based, as check-config and the logs name it
    url: Secret
    events: tuple[str, ...]

    @property
    def service(self) -> str:
        return service_name(self.url.reveal())


def fail_url(ping: str) -> str:
    """healthchecks.io's failure signal: the ping URL with /fail added to its path."""
    parts = urlsplit(ping)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/fail"))


class Courier:
    def __init__(self, targets: Sequence[Target], *, secrets: Callable[[], list[str]] = list) -> None:
        self.targets = list(targets)
        self._secrets = secrets  # every secret's value now (keys, URLs): scrubbed from texts
        self._queue: "queue.Queue[Optional[tuple[str, Any]]]" = queue.Queue(QUEUE_SIZE)
        self._thread: Optional[threading.Thread] = None
        self._apprise: dict[int, Any] = {}
        self._session: Optional[requests.Session] = None
        self._ping_failing = False
        self.delivered = 0  # notices delivered to a target (tests, status)

    def wants(self, event: str) -> bool:
        return any(event in t.events for t in self.targets)

    # -- queueing (any thread; never blocks) ----------------------------------------------
    def send(self, notice: Notice) -> None:
        if self.wants(notice.event):
            self._put(("notice", notice), notice.event)

    def ping(self, url: Secret, healthy: bool) -> None:
        self._put(("ping", (url, healthy)), "ping")

    def _put(self, item: tuple[str, Any], what: str) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            log.warning("notification_dropped", notice=what, hint="deliveries are slower than events: "
                        "check that the notification services answer")

    # -- the delivery thread --------------------------------------------------------------
    def start(self) -> "Courier":
        self._thread = threading.Thread(target=self._run, name="courier", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within `timeout`, then stop."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        if self._session is not None:
            self._session.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            kind, payload = item
            try:
                if kind == "notice":
                    self._deliver(payload)
                else:
                    self._ping(*payload)
            except Exception as exc:  # a delivery must never end the thread
                log.error("notification_error", error_type=exc.__class__.__name__, kind=kind)

    def scrub(self, text: str) -> str:
        for secret in sorted((s for s in self._secrets() if s), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _deliver(self, notice: Notice) -> None:
        for target in self.targets:
            if notice.event not in target.events:
                continue
            sender = self._sender(target)
            if sender is None:
                continue
            import apprise
            ok = sender.notify(body=self.scrub(notice.body), title=self.scrub(notice.title),
                               notify_type=getattr(apprise.NotifyType, notice.level.upper(), apprise.NotifyType.INFO))
            if ok:
                self.delivered += 1
                log.info("notification_sent", notice=notice.event, target=target.number, service=target.service)
            else:
                log.warning("notification_failed", notice=notice.event, target=target.number, service=target.service,
                            hint="the service did not take it; check the URL with `apprise -vv -b test URL`")

    def _sender(self, target: Target) -> Any:
        if target.number not in self._apprise:
            quiet_apprise()
            import apprise
            # async_mode=False: no thread pool of Apprise's own; this thread is the one that waits.
            sender = apprise.Apprise(asset=apprise.AppriseAsset(app_id="mavi-sync", app_desc=f"mavi-sync {__version__}",
                                                                async_mode=False))
            if not sender.add(target.url.reveal()):
                log.error("notification_url_invalid", target=target.number, service=target.service,
                          hint="Apprise does not read this URL; see https://github.com/caronc/apprise/wiki")
                sender = None
            self._apprise[target.number] = sender
        return self._apprise[target.number]

    def _ping(self, url: Secret, healthy: bool) -> None:
        if self._session is None:
            self._session = requests.Session()
            self._session.headers["User-Agent"] = f"mavi-sync/{__version__}"
        what = "ping" if healthy else "fail"
        try:
            response = self._session.get(url.reveal(), timeout=PING_TIMEOUT, allow_redirects=False)
            response.close()
            ok, error = response.status_code < 400, f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            ok, error = False, exc.__class__.__name__
        if not ok and not self._ping_failing:
            log.warning("health_ping_failed", signal=what, service=service_name(url.reveal()), error=error)
        elif ok and self._ping_failing:
            log.info("health_ping_ok", signal=what)
        self._ping_failing = not ok


def notify_url_problem(url: str) -> Optional[str]:
    """Why Apprise cannot use `url` (naming its service only), or None."""
    quiet_apprise()
    import apprise
    if apprise.Apprise.instantiate(url) is None:
        return f"Apprise does not read this {service_name(url)}:// URL (see its wiki for the format)"
    return None


def quiet_apprise() -> None:
    """Apprise logs hosts and paths of the URLs it sends to: tokens. Its lines never reach
    the journal; mavi-sync logs each delivery itself, naming the service only."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    logger.handlers = [logging.NullHandler()]
    logger.setLevel(logging.CRITICAL + 1)
