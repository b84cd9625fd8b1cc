"""`mavi-sync run`: the daemon's life: start, the tick, signals, systemd notify, config reload,
and shutdown (its parts are built in wiring.py).

SIGTERM/SIGINT: stop intake, let in-flight uploads finish within shutdown_grace_s,
then exit; anything cut off stays `uploading` in the ledger and is resumed (looked up
first) on the next start. A second signal exits at once. SIGHUP reloads the config;
an invalid one is logged and the old one kept.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Optional

from mavi_sync.config import Config, load_config
from mavi_sync.errors import ConfigError, MaviSyncError
from mavi_sync.find.backup import Backups
from mavi_sync.intake.watcher import Watcher
from mavi_sync.fleet import open_ledger
from mavi_sync.captions.receiver import with_callbacks
from mavi_sync.logs import get_logger
from mavi_sync.daemon import wiring
from mavi_sync.daemon.systemd import Notifier
from mavi_sync.owner.oversight import Oversight, Watched

if TYPE_CHECKING:
    from mavi_sync.readout.metrics import Metrics

log = get_logger("mavi_sync.daemon.service")
TICK_S = 0.2
HEARTBEAT_S = 5.0
OVERSIGHT_S = 1.0  # the gate (windows, cap, a pause by hand) and notifications are looked at this often
# [uploads] keys read once at start: by Client.from_config (its limiters, timeouts and
# retry policy) and by Engine.start (the workers). A reload names them when they change.
UPLOADS_FIXED_AT_START = ("concurrency", "rate_limit_per_minute", "query_rate_limit_per_second",
                          "connect_timeout_s", "read_timeout_s", "request_attempts",
                          "request_retry_initial_s", "image_batch_files")


class Daemon:
    def __init__(self, config: Config, config_path: Optional[Path], *, notifier: Optional[Notifier] = None) -> None:
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self.ledger = open_ledger(config)
        self.config = config = with_callbacks(config, self.ledger)
        self.fleet = wiring.join_fleet(config) if config.fleet.database else None
        parts = wiring.assemble(config, self.ledger, fleet=self.fleet)
        self.client, self.engine, self.intake, self.gate = parts.client, parts.engine, parts.intake, parts.gate
        engine = self.engine
        self.oversight = Oversight(config, self.ledger, Watched(engine.pause.current, lambda: engine.outage.since,
                                                                lambda: parts.counters.uploaded),
                                   secrets=self.client.keys.revealed)
        engine.after.on_caption = self.oversight.caption
        self.metrics: Optional["Metrics"] = wiring.metrics(parts) if config.metrics.port else None
        self.receiver = wiring.receiver(config, self.ledger, self.engine) if config.receiver.listen else None
        self.web = wiring.web(self, parts) if config.web.listen else None
        self.watcher: Optional[Watcher] = None
        # Consistent copies of a box's own ledger ([ledger] backup_dir); a fleet's is PostgreSQL's.
        self.backups = Backups(config.ledger, self.ledger.path) if not config.fleet.database else None
        # Ping systemd's watchdog at half its timeout (WatchdogSec=), at least every 5 s.
        watchdog = self.notifier.watchdog_s
        self._beat_s = min(HEARTBEAT_S, watchdog / 2) if watchdog else HEARTBEAT_S
        self._signals = 0
        self._reload = threading.Event()
        self._stop = threading.Event()

    # -- signals --------------------------------------------------------------------------
    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, lambda *_: self._reload.set())
        # A file size limit (ulimit -f) must make a write fail with EFBIG, which the ledger
        # reports, rather than kill the daemon outright.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def _on_stop(self, signum: int, _frame: Optional[FrameType]) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("stopping_now", signal=signal.Signals(signum).name)
            self.notifier.stopping("stopping now")
            os._exit(130)  # the second signal: no more waiting; the ledger is crash-safe
        self._stop.set()

    # -- life -----------------------------------------------------------------------------
    def run(self) -> int:
        """Run until a stop signal; returns the exit code."""
        # What start-up made (modules, config, the client) lives as long as the daemon: the
        # cyclic collector need not walk it again on every full collection (the restart
        # walk allocates a stat per file and would trigger several).
        gc.freeze()
        self.engine.staging.clean()  # what a crash left in the staging area: nothing is in flight yet
        self.ledger.set_daemon(pid=str(os.getpid()), started_at=str(time.time()), paused=None, paused_detail=None)
        if self.metrics is not None:
            self.metrics.start(self.config.metrics.address, self.config.metrics.port)
        if self.web is not None:
            self.web.start()  # (a port in use or no password: logged; uploads go on)
        if self.receiver is not None:
            self.receiver.start()
            log.info("receiver_listening", address="%s:%d" % self.receiver.address)  # (the URL's secret: never)
        self._start_watching()
        if self.backups is not None:
            self.backups.start()
        self.intake.walk_in_background(self._walk, "startup-walk")
        self._oversee()  # a window closed now, or a pause by hand, holds the workers from their start
        self.engine.start(self.config.uploads.concurrency)
        self.notifier.ready(self._summary())
        self._heartbeat(starting=True)
        log.info("daemon_started", folders=[str(f.path) for f in self.config.folders],
                 watch={str(k): v for k, v in (self.watcher.modes if self.watcher else {}).items()})
        self._loop()
        return self._shutdown()

    def _walk(self) -> None:
        started = time.monotonic()
        try:
            seen = self.intake.walk()
        except MaviSyncError as exc:
            log.error("walk_failed", error=str(exc))
            return
        # What the walk found settled long ago goes to the queue now, not at the next tick:
        # "walk done" then means every file it found is queued or known.
        queued = self.intake.settle_tick()
        log.info("walk_done", files=seen, queued=queued, duration_ms=int((time.monotonic() - started) * 1000))

    def _start_watching(self) -> None:
        self.watcher = Watcher(self.config.folders, self.intake.on_event)
        self.watcher.start()

    def _loop(self) -> None:
        last_beat = last_rescan = last_look = time.monotonic()
        while not self._stop.wait(TICK_S):
            self.intake.settle_tick()
            now = time.monotonic()
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            if now - last_look >= OVERSIGHT_S:
                last_look = now
                self._oversee()
            if now - last_rescan >= self.config.uploads.rescan_interval_s:
                last_rescan = now
                self.intake.walk_in_background(self._walk, "rescan")
            if now - last_beat >= self._beat_s:
                last_beat = now
                self._heartbeat()

    def _oversee(self) -> None:
        """The gate and oversight, on one read of the ledger's daemon table (each second)."""
        try:
            daemon = self.ledger.daemon()
        except MaviSyncError as exc:  # a ledger that cannot be read: the gate stays as it was
            log.debug("gate_skipped", error=str(exc))
            daemon = None
        if daemon is not None:
            self.gate.tick(daemon)
        self.oversight.tick(daemon)

    def _summary(self) -> str:
        """The engine's one line, and what holds or caps uploads (STATUS=, the ledger's summary)."""
        gate = self.gate.state.summary() if self.gate.state is not None else ""
        return self.engine.summary() + (f"; {gate}" if gate else "")

    def _heartbeat(self, starting: bool = False) -> None:
        try:
            summary = self._summary()
        except MaviSyncError as exc:  # the ledger cannot be read (a fleet's database away): say so, beat on
            summary = f"ledger unreadable: {exc}"
        self.notifier.status(summary)
        self.notifier.watchdog()
        try:
            self.ledger.set_daemon(heartbeat=str(time.time()), summary=summary, waiting=self._waiting())
        except MaviSyncError as exc:
            log.error("ledger_write_failed", error=str(exc))
        if self.fleet is not None:
            try:
                pause = self.engine.pause.current()
                self.fleet.registry.beat(summary, pause[0] if pause else None, starting=starting)
            except MaviSyncError as exc:  # the budget says so once (fleet_budget_local); this is detail
                log.debug("fleet_beat_failed", error=str(exc))

    def _waiting(self) -> Optional[str]:
        """The file held back longest (unfinished, held, changed while sent…), for `status`:
        one not yet written to the ledger is known only here."""
        oldest = self.engine.story.oldest(lambda p: self.config.folder_for(p) is not None and os.path.lexists(p))
        return json.dumps(oldest.as_json()) if oldest is not None else None

    def reload(self) -> None:
        """SIGHUP: a valid new config replaces the folders and most upload settings; an
        invalid one is logged and the old one kept. [api], [ledger] and the [uploads] keys
        in UPLOADS_FIXED_AT_START need a restart: a warning names those that changed."""
        if self.config_path is None:
            return
        try:
            new = with_callbacks(load_config(self.config_path), self.ledger)
        except ConfigError as exc:
            log.error("config_reload_failed", error=str(exc), hint="the previous config stays in force")
            return
        later = [f"uploads.{key}" for key in UPLOADS_FIXED_AT_START
                 if getattr(new.uploads, key) != getattr(self.config.uploads, key)]
        later += [name for name, old, now in (("[api]", self.config.api, new.api),
                                               ("[ledger]", self.config.ledger, new.ledger),
                                               ("[receiver]", self.config.receiver, new.receiver),
                                               ("[web]", self.config.web, new.web)) if old != now]
        if later:
            log.warning("config_reload_partial", after_restart=later,
                        hint="these changes take effect after a restart; the rest applies now")
        if self.watcher is not None:
            self.watcher.stop()
        before, self.config = self.config, new
        self.client.keys.forget()  # a key file corrected before the reload is read again
        self.gate.bandwidth = new.bandwidth
        self.oversight.reconfigure(new)
        self.engine.reconfigure(new)
        self.intake.reconfigure(new)
        self._forget_dropped(before, new)  # once nothing takes new work from them any more
        self._start_watching()
        self.intake.walk_in_background(self._walk, "reload-walk")
        log.info("config_reloaded", folders=[str(f.path) for f in new.folders])

    def _forget_dropped(self, old: Config, new: Config) -> None:
        """Folders the new config drops: what they held that was not sent is forgotten
        (docs/guides/systemd.md "Reload, stop and signals")."""
        kept = {f.path for f in new.folders}
        for folder in [f for f in old.folders if f.path not in kept]:
            try:
                forgotten = self.ledger.forget_folder(str(folder.path))
            except MaviSyncError as exc:
                log.error("folder_forget_failed", path=str(folder.path), error=str(exc))
                continue
            log.info("folder_dropped", path=str(folder.path), forgotten=forgotten,
                     hint="no longer watched; its files not yet sent are forgotten, found again if it comes back")

    def _shutdown(self) -> int:
        grace = self.config.uploads.shutdown_grace_s
        self.notifier.stopping(f"stopping: finishing uploads in flight (up to {grace:g} s)")
        log.info("daemon_stopping", in_flight=self.engine.counters.in_flight, grace_s=grace)
        if self.watcher is not None:
            self.watcher.stop()
        finished = self.engine.drain(grace)
        self.intake.join_walks(5.0)
        if not finished:
            log.warning("uploads_cut_off", hint="they are resumed (and looked up first) on the next start")
        if self.metrics is not None:
            self.metrics.stop()
        if self.web is not None:
            self.web.stop()
        if self.receiver is not None:
            self.receiver.stop()
        self.client.close()
        self.oversight.stop()
        if self.backups is not None:
            self.backups.close()
        if self.fleet is not None:
            try:
                self.fleet.registry.left()
            except MaviSyncError:
                pass
            self.fleet.close()
        self.ledger.set_daemon(pid=None, heartbeat=None)
        self.ledger.close()
        log.info("daemon_stopped")
        return 0


def run(config_path: Path) -> int:
    daemon = Daemon(load_config(config_path), config_path)
    daemon.install_signals()
    return daemon.run()


