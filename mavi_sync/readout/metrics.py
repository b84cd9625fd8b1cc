"""Optional Prometheus metrics on a localhost port (prometheus-client's own HTTP server).

Gauges are read from the engine and the ledger when Prometheus scrapes, so the
daemon's code paths carry no instrumentation beyond the upload-duration histogram.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from mavi_sync.api.ratelimit import RateLimiter
from mavi_sync.owner.gate import GateState
from mavi_sync.engine.snapshot import Counters

DURATION_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass(frozen=True)
class Sources:
    """What the metrics read, handed in by the daemon (they need not know the engine)."""

    counts: Callable[[], dict[tuple[str, str], int]]  # ledger files by (state, target)
    counters: Counters
    limiter: Optional[RateLimiter]  # the upload limiter
    queue_depth: Callable[[], int]  # settling or waiting for a worker
    paused: Callable[[], bool]
    gate: Callable[[], Optional[GateState]] = lambda: None
    # after-upload actions owed: {action: (how many, since when the oldest is)} (after/duties.py)
    waiting: Callable[[], dict[str, tuple[int, float]]] = lambda: {}
    clock: Callable[[], float] = time.time


class _Collector(Collector):
    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Any]:
        s = self.sources
        files = GaugeMetricFamily("mavi_sync_files", "Files in the ledger by state and target",
                                  labels=["state", "target"])
        for (state, target), n in sorted(s.counts().items()):
            files.add_metric([state, target], n)
        yield files
        yield CounterMetricFamily("mavi_sync_uploaded_bytes", "Bytes uploaded since start",
                                  value=s.counters.bytes_sent)
        yield CounterMetricFamily("mavi_sync_uploads", "Uploads completed since start", value=s.counters.uploaded)
        yield CounterMetricFamily("mavi_sync_retries", "Requests retried in-process since start",
                                  value=s.counters.retries)
        limiter = s.limiter
        yield CounterMetricFamily("mavi_sync_rate_limit_waits", "Times a request waited for the rate limiter",
                                  value=limiter.waits if limiter else 0)
        yield CounterMetricFamily("mavi_sync_rate_limit_wait_seconds", "Seconds spent waiting for the rate limiter",
                                  value=limiter.waited_s if limiter else 0.0)
        yield GaugeMetricFamily("mavi_sync_queue_depth", "Files settling or waiting for a worker",
                                value=s.queue_depth())
        yield GaugeMetricFamily("mavi_sync_uploads_in_flight", "Uploads in flight", value=s.counters.sending)
        yield GaugeMetricFamily("mavi_sync_paused", "1 while an account error, an outage or the ledger pauses uploads",
                                value=1 if s.paused() else 0)
        gate = s.gate()
        yield GaugeMetricFamily("mavi_sync_bandwidth_cap_bytes_per_second",
                                "The upload byte-rate cap in force ([bandwidth] limit); 0 = none",
                                value=(gate.rate or 0) if gate else 0)
        yield GaugeMetricFamily("mavi_sync_upload_window_open", "1 inside the upload windows (or when none are set)",
                                value=1 if gate is None or gate.window_open else 0)
        yield GaugeMetricFamily("mavi_sync_paused_by_hand", "1 while paused by `mavi-sync pause`",
                                value=1 if gate is not None and gate.hand is not None else 0)
        yield from self._waiting()

    def _waiting(self) -> Iterator[Any]:
        """What `status` shows as "waiting to archive: N, oldest …", read from the same ledger rows."""
        waiting = GaugeMetricFamily("mavi_sync_after_upload_waiting", "Files whose after-upload action is owed",
                                    labels=["action"])
        oldest = GaugeMetricFamily("mavi_sync_after_upload_oldest_seconds",
                                   "How long the oldest owed after-upload action has waited", labels=["action"])
        now = self.sources.clock()
        owed = self.sources.waiting()
        # Both actions always have a series (0 when none is owed): a graph or an alert on
        # them never meets an absent one.
        for action in sorted({"archive", "delete"} | set(owed)):
            n, since = owed.get(action, (0, now))
            waiting.add_metric([action], n)
            oldest.add_metric([action], max(0.0, now - since))
        yield waiting
        yield oldest


class Metrics:
    def __init__(self, sources: Sources) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_Collector(sources))
        self.upload_seconds = Histogram("mavi_sync_upload_duration_seconds", "Time to upload one file",
                                        buckets=DURATION_BUCKETS, registry=self.registry)
        self._server: Optional[Any] = None

    def start(self, address: str, port: int) -> None:
        self._server, _thread = start_http_server(port, addr=address, registry=self.registry)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
