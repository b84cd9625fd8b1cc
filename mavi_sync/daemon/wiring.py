"""The daemon's parts, built and connected: the client, the engine, intake and the gate
(`assemble`, for the daemon, `sync` and tests), and the optional ones a config asks for (a
fleet, the callback receiver, the metrics, the status page)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from mavi_sync.api.client import Client, KeyRing, OnRetry, log_retry
from mavi_sync.captions.receiver import Receiver
from mavi_sync.config import Config
from mavi_sync.engine.core import Engine
from mavi_sync.engine.snapshot import Counters
from mavi_sync.errors import MaviSyncError
from mavi_sync.intake import Intake
from mavi_sync.ledger.store import Ledger
from mavi_sync.owner.gate import Gate
from mavi_sync.web import Sources as PageSources, WebServer

if TYPE_CHECKING:
    from mavi_sync.fleet.join import Fleet
    from mavi_sync.readout.metrics import Metrics


@dataclass
class Parts:
    """The daemon's moving parts, wired: one stop event that the client's waits, the engine's
    loops and intake's walks all see; the engine's queue fed by intake."""

    stop: threading.Event
    counters: Counters
    client: Client
    engine: Engine
    intake: Intake
    gate: Gate


def counting_retries(counters: Counters, then: OnRetry = log_retry) -> OnRetry:
    """The client's retry hook: count each in-process retry (metrics), then log it."""
    def hook(attempt: int, wait: float, exc: BaseException) -> None:
        counters.retries += 1
        then(attempt, wait, exc)
    return hook


def assemble(config: Config, ledger: Ledger, *, keys: Optional[KeyRing] = None,
             clock: Callable[[], float] = time.time, fleet: Optional["Fleet"] = None) -> Parts:
    """Build and connect client, engine and intake for `config` (the daemon, `sync`, tests);
    in a fleet, the client takes its slots from the account's shared budgets."""
    stop, counters = threading.Event(), Counters()
    client = Client.from_config(config, keys=keys, stop=stop, on_retry=counting_retries(counters),
                                limiters=fleet.limiters if fleet is not None else None, folders=ledger)
    engine = Engine(config, ledger, client, stop=stop, clock=clock, counters=counters)
    intake = Intake(config, ledger, engine.enqueue, stop=stop, clock=clock)
    engine.settling = intake.__len__
    engine.resettle = intake.resettle
    intake.on_gone = engine.story.gone
    engine.on_ledger_back = lambda: intake.walk_in_background(intake.walk, "walk-after-ledger")
    gate = Gate(config.bandwidth, ledger, client.transport.throttle, engine.opened, clock=clock)
    return Parts(stop, counters, client, engine, intake, gate)


def join_fleet(config: Config) -> "Fleet":
    # Imported only in a fleet: psycopg and its libpq are not loaded on a box of its own.
    try:
        from mavi_sync.fleet.join import join
    except ImportError as exc:
        raise MaviSyncError(f"[fleet] database is set, but the PostgreSQL driver is missing ({exc.name})",
                            hint="Install mavi-sync with its fleet extra: pip install 'mavi-sync[fleet]'.") from None
    fleet = join(config)
    assert fleet is not None
    return fleet


def receiver(config: Config, ledger: Ledger, engine: Engine) -> Receiver:
    try:
        return Receiver(config.receiver.listen, ledger, engine.after.caption)
    except OSError as exc:
        raise MaviSyncError(f"[receiver] listen = {config.receiver.listen!r}: cannot listen there "
                            f"({exc.strerror or exc})", hint="Choose a free port, or leave listen empty.") from None


def metrics(parts: Parts) -> "Metrics":
    # Imported only when asked for: prometheus_client costs 1.5 MB that most boxes never use.
    from mavi_sync.readout.metrics import Metrics, Sources
    engine = parts.engine
    metrics = Metrics(Sources(counts=engine.ledger.counts, counters=parts.counters,
                              limiter=parts.client.transport.limiters["upload"],
                              queue_depth=lambda: engine.queue.qsize() + len(parts.intake),
                              paused=lambda: engine.pause.paused, gate=lambda: parts.gate.state,
                              waiting=engine.after.waiting))
    engine.on_upload = metrics.upload_seconds.observe
    return metrics


def web(daemon: Any, parts: Parts) -> WebServer:
    """The status page, reading the counters, queue, pauses and gate it shows (and the config in force)."""
    engine = parts.engine
    sources = PageSources(parts.counters, engine.queue, parts.intake.__len__, engine.pause.current,
                          lambda: parts.gate.state, lambda: daemon.config)
    return WebServer(daemon.config, sources, metrics=daemon.metrics.registry if daemon.metrics else None)
