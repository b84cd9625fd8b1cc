"""The upload engine: the work queue, the workers, the retry scheduler and drain.

Intake (intake/) feeds `enqueue`; each worker runs one path through the uploader, which
records the attempt's decided outcome (outcome.py); the engine logs it and tells the pauses'
owner (pauses.py) what concerns everyone: an outage, an account problem, a ledger that
cannot be written. Images with the same fields share a request (batch.py). The status
follower (follower.py) runs beside it. Every loop is a thread that stops on `stop` and never
blocks without a timeout.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.engine import batch

from mavi_sync.pipeline import events
from mavi_sync.after import AfterUpload
from mavi_sync.api.client import Client
from mavi_sync.config.schema import Config
from mavi_sync.errors import AccountError, FileChanged, LedgerError, MaviSyncError
from mavi_sync.pipeline.follower import Follower
from mavi_sync.ledger.records import FileRecord
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger
from mavi_sync.media.prober import ProbeHelper, Prober, convert_here
from mavi_sync.pipeline.outcome import Attempt, Kind
from mavi_sync.engine.pauses import Pauses
from mavi_sync.engine.snapshot import Counters, Snapshot
from mavi_sync.pipeline.staging import Staging
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.sending import Ready, send
from mavi_sync.pipeline.uploader import Outcome, apply, prepare, prepare_clip, rules_of

log = get_logger("mavi_sync.engine.core")



class Engine:
    def __init__(self, config: Config, ledger: Ledger, client: Client, *, stop: threading.Event,
                 clock: Callable[[], float] = time.time, probe: Optional[Prober] = None,
                 counters: Optional[Counters] = None) -> None:
        self.config = config
        self.ledger = ledger
        self.client = client
        self.clock = clock
        # Files are read in a helper process: FFmpeg stays out of the long-lived daemon (prober.py).
        self.probe: Prober = probe or ProbeHelper(idle_s=config.uploads.probe_idle_s)
        # Conversions (HEIC → JPEG, TS → MP4) run where probing runs: in the helper (staging.py);
        # transcodes, which take minutes of CPU, in a niced helper of their own, one at a time,
        # so that probing the next files never waits behind one.
        helper = isinstance(self.probe, ProbeHelper)
        self.transcoder = ProbeHelper.for_transcoding(config.uploads.probe_idle_s) if helper else None
        self.staging = Staging.beside(ledger.path, int(config.uploads.staging_max_mb * 1e6),
                                      self.probe.convert if isinstance(self.probe, ProbeHelper) else convert_here,
                                      self.transcoder.convert if self.transcoder else None)
        self.stop = stop  # the client's waits see it too (daemon.py hands both the same one)
        self.draining = threading.Event()  # SIGTERM: take no new work, finish what is in flight
        self.pauses = Pauses(ledger, client, clock=clock, account_probe_s=lambda: self.config.uploads.account_probe_s)
        self.pause, self.outage = self.pauses.pause, self.pauses.outage  # (read by the daemon's oversight)
        self.pauses.fill = self.schedule_due  # a trial needs work in the queue to try with
        self.pauses.queued = lambda: self.queue.qsize() + self.settling()
        self.pauses.on_ledger_back = self._ledger_back
        self._resume = True  # the scheduler's next pass resumes the work a stop or the ledger cut off
        # Clear while uploads may not start: outside the upload windows, paused by hand (gate.py).
        self.opened = threading.Event()
        self.opened.set()
        self.counters = counters or Counters()
        self.story = events.Story(clock)  # each file's log lines; who waits, and since when
        self.queue: "queue.Queue[Path]" = queue.Queue()
        self._lock = threading.Lock()
        self._queued: set[Path] = set()
        # Paths a worker is processing now, and those asked for again meanwhile: a path is
        # never in two workers at once (the scheduler re-finds READY rows every second).
        self._active: set[Path] = set()
        self._again: set[Path] = set()
        self._threads: list[threading.Thread] = []
        self.on_upload: Callable[[float], None] = lambda seconds: None  # metrics hook
        self.on_ledger_back: Callable[[], None] = lambda: None  # the daemon walks again
        self.settling: Callable[[], int] = lambda: 0  # paths intake still holds (for snapshots)
        # Where a path found again (a due retry, a resumed row, an unfinished file) goes:
        # through intake's settling (daemon/wiring.py assemble), so no worker ever gets a file in flux.
        self.resettle: Callable[[Path, bool], None] = lambda path, hold: self.enqueue(path)
        self.after = AfterUpload(config, ledger, clock=clock)  # archive, delete; captions beside the clip
        self.follower = Follower(ledger, client, rules_of(config), clock=clock, stop=stop,
                                 on_account_error=self.pauses.account_failed, on_confirmed=self.after.confirmed,
                                 paused=lambda: self.pause.paused)

    def reconfigure(self, config: Config) -> None:
        """A reloaded config: read afresh by each file from now on; the probe helper's idle
        time applies from the next helper started."""
        self.config = config
        self.follower.rules = rules_of(config)
        self.after.reconfigure(config)
        if isinstance(self.probe, ProbeHelper):
            self.probe.idle_s = config.uploads.probe_idle_s

    def enqueue(self, path: Path) -> None:
        with self._lock:
            if path in self._active:
                self._again.add(path)  # queued again once its worker is done with it
                return
            if path in self._queued:
                return
            self._queued.add(path)
        self.queue.put(path)

    # -- workers ------------------------------------------------------------------------
    def start(self, workers: int) -> None:
        loops = [("worker", self._worker)] * workers + [
            ("scheduler", self._scheduler), ("follower", lambda: self.follower.run(self.draining)),
            ("after", lambda: self.after.run(self.stop, self.draining))]
        for i, (name, target) in enumerate(loops):
            thread = threading.Thread(target=target, name=f"{name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _worker(self) -> None:
        while not self.stop.is_set() and not self.draining.is_set():
            if not self.opened.wait(0.5):
                continue
            ticket = self.pauses.admit(0.5)  # 0, or the pause's trial this worker took
            if ticket is None:
                continue
            try:
                path = self._next(0.5)
                if path is None:
                    continue
                try:
                    self.process(path)
                except MaviSyncError as exc:  # never let one file stop a worker
                    self._failed(path, exc)
                finally:
                    self._done(path)
            finally:
                self.pauses.release(ticket)  # a trial no request decided goes to the next file

    def _next(self, timeout: float) -> Optional[Path]:
        """The next queued path, now this worker's; None when there is none or draining."""
        try:
            path = self.queue.get(timeout=timeout) if timeout else self.queue.get_nowait()
        except queue.Empty:
            return None
        if not self._take(path):
            self.queue.put(path)  # (draining: whoever starts next finds it again anyway)
            return None
        return path

    def _failed(self, path: Path, exc: MaviSyncError) -> bool:
        """An error no attempt could record; True when it concerns every file (the ledger)."""
        if isinstance(exc, LedgerError):  # a full or read-only disk, a fleet database away
            self.pauses.ledger_failed(exc)
            return True
        log.error("file_error", path=str(path), error=str(exc), error_type=exc.__class__.__name__)
        return False

    def _take(self, path: Path) -> bool:
        """`path`, taken off the queue, is this worker's now (False: draining, leave it)."""
        with self._lock:
            self._queued.discard(path)
            if self.draining.is_set():
                return False
            self._active.add(path)
            self.counters.begin(path)
            return True

    def _done(self, path: Path) -> None:
        with self._lock:  # += on a shared int is not atomic across threads
            self.counters.end(path)
            self._active.discard(path)
            again = path in self._again
            self._again.discard(path)
        if again:
            self.enqueue(path)

    def process(self, path: Path) -> Optional[Outcome]:
        """One ready path: upload it (or not: known, waiting, refused), the outcome recorded.
        An image ready to leave takes the queued images with the same fields behind it into
        its request (batch.py); each outcome is recorded as soon as its answer is in. Every
        row claimed is released at the end, however the attempt ended (a ledger that failed
        at the body's first byte included): else later claims in this process are refused."""
        started = time.monotonic()
        ready = self._prepare(path)
        if not isinstance(ready, Ready):
            return self._record(ready, started)
        if ready.job.target != "image" or self.client.settings.image_batch_files < 2:
            try:
                return self._record(send(ready, self.client, self.ledger, self.staging), started)
            finally:
                self.ledger.release(ready.record.id)
        group = batch.gather(ready, self.client.settings.image_batch_files, lambda: self._next(0), self._prepare,
                             self._failed, self.stop)
        try:
            outcomes = [self._record(a, started) for a in batch.attempts(group, self.client, self.ledger,
                                                                          self.staging)]
        finally:
            for claimed in group.claimed():
                self.ledger.release(claimed.record.id)
            for other in group.taken:
                self._done(other)
        return next((o for o in outcomes if o is not None and o.path == path), None)

    def _prepare(self, path: Path) -> "Ready | Attempt | None":
        folder = self.config.folder_for(path)
        if folder is None:  # its folder left the config (a reload): not watched, not retried every second
            self.ledger.forget_path(path, "left")
            return None
        return prepare(path, folder, self.config, self.ledger, target=None, progress=self.counters.progress_of(path),
                       clock=self.clock, unattended=True, probe=self.probe, staging=self.staging,
                       sending=self.counters.sending_changed,
                       is_outage=lambda exc: self.outage.failed(exc, self.clock()))

    def _record(self, attempt: "Attempt | None", started: float) -> Optional[Outcome]:
        """Write the attempt's decision and act on it; an account problem pauses everyone."""
        if attempt is None:
            return None
        outcome = apply(self.ledger, attempt, rules_of(self.config), self.clock())
        if outcome.kind is Kind.ACCOUNT:  # recorded (attempt given back); everyone waits
            assert isinstance(outcome.error, AccountError)
            self.pauses.account_failed(outcome.error)
            return None
        self._clip_of(outcome)  # first: the still's confirmation must find the clip's row (after/)
        self._note(outcome, time.monotonic() - started)
        return outcome

    def _clip_of(self, o: Outcome) -> None:
        """A motion photo whose folder says live_photos = "both": its clip's upload follows
        the still's (uploader.prepare_clip), and is tried again whenever the file comes back."""
        record, folder = o.record, self.config.folder_for(o.path)
        if record is None or folder is None or folder.live_photos != "both" or record.target in ("video", "security") \
                or not (record.metadata or {}).get("motion_size") or o.kind in (Kind.VANISHED, Kind.UNFINISHED):
            return
        started = time.monotonic()
        ready = prepare_clip(o.path, folder, self.config, self.ledger, record, clock=self.clock, probe=self.probe,
                             is_outage=lambda exc: self.outage.failed(exc, self.clock()), staging=self.staging,
                             sending=self.counters.sending_changed)
        if isinstance(ready, Ready):
            try:
                self._record(send(ready, self.client, self.ledger, self.staging), started)
            finally:
                self.ledger.release(ready.record.id)
        elif ready is not None:
            self._record(ready, started)

    def _note(self, o: Outcome, seconds: float) -> None:
        """Log the outcome once, and act on what concerns every upload (outage, recovery)."""
        self.story.attempt(o, seconds, self.clock())
        if o.kind is Kind.SENT and o.result is not None:
            with self._lock:
                self.counters.uploaded += 1
                self.counters.bytes_sent += o.result.bytes_sent
            self.on_upload(seconds)
            self.pauses.answered()
        if o.kind is Kind.SENT and o.result is not None and o.record is not None and o.result.details.get("text"):
            self.after.caption(o.record.id, str(o.result.details["text"]), o.path, via="upload")
        if o.state is State.CONFIRMED and o.record is not None and o.kind in (Kind.SENT, Kind.KNOWN):
            self.after.confirmed(o.record)  # (KNOWN: a copy or rename of confirmed content: the folder's action applies)
        if o.kind is Kind.UNREADABLE and self.ledger.skip(o.path, o.detail):  # no content to key a row by
            events.skipped_logged(str(o.path), o.detail)
        if o.kind is Kind.UNFINISHED or isinstance(o.error, FileChanged):
            self.resettle(o.path, True)  # still being written, or paused: it settles again
        if o.outage:  # the file's attempt was already given back by the outcome's decision
            self.pauses.unreachable(o.detail)

    def _ledger_back(self) -> None:
        """The ledger is writable again: what arrived meanwhile is found by a walk (the
        daemon's hook), what it cut off mid-attempt is resumed like after a stop."""
        self._resume = True
        self.on_ledger_back()

    # -- scheduler: retries, cool-downs, resumed attempts ---------------------------------
    def _scheduler(self) -> None:
        while not self.stop.wait(1.0):
            if self.draining.is_set():
                return
            try:
                if self.pauses.paused:
                    self.pauses.tick()
                    continue
                if self._resume:  # work cut off by the last stop or the ledger: resume it (videos are looked up first)
                    for state in (State.UPLOADING, State.DISCOVERED):
                        self._enqueue_records(self.ledger.files(state=state, limit=100000))
                    self._resume = False
                self.schedule_due()
            except LedgerError as exc:
                self.pauses.ledger_failed(exc)
            except MaviSyncError as exc:
                log.error("scheduler_error", error=str(exc))

    def schedule_due(self) -> None:
        now = self.clock()
        self._enqueue_records(self.ledger.due(State.READY, now))
        cooldown = self.config.uploads.failed_cooldown_s
        for record in self.ledger.due(State.FAILED, now):
            if cooldown and record.next_attempt_at is not None:
                self.ledger.transition(record.id, State.READY, attempts=0, next_attempt_at=None)
                self._enqueue_records([record])

    def _enqueue_records(self, records: list[FileRecord]) -> None:
        for record in records:
            raw = self.ledger.path_of(record.id)
            if raw is not None:
                self.resettle(Path(os.fsdecode(raw)), False)

    # -- shutdown and reporting -----------------------------------------------------------
    def drain(self, grace_s: float) -> bool:
        """Take no new work; wait up to `grace_s` for in-flight uploads. True if all finished."""
        self.draining.set()
        deadline = time.monotonic() + grace_s
        while self.counters.in_flight > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        finished = self.counters.in_flight == 0
        self.stop.set()
        for thread in self._threads:
            thread.join(2.0)
        for helper in (self.probe, self.transcoder):
            if isinstance(helper, ProbeHelper):
                helper.close()
        return finished

    def snapshot(self) -> Snapshot:
        return Snapshot.of(self.ledger.counts(), self.queue.qsize() + self.settling(), self.counters,
                           self.pause.reason if self.pause.paused else None)

    def summary(self) -> str:
        """The one-line status for systemd and logs (a transcode's progress included)."""
        progress = self.staging.progress()
        return self.snapshot().summary() + (f"; {progress}" if progress else "")
