"""The moving parts of a sync: intake (walk + events → settle → queue), upload workers,
the retry scheduler and the status follower. `daemon.py` runs them forever; `sync`
runs one pass. Every loop is a thread that stops on `stop` and never blocks without
a timeout.
"""

from __future__ import annotations

import os
import queue
import stat
import threading
import time
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Callable, Optional

from mavi_sync import after
from mavi_sync.api.client import Client
from mavi_sync.api.follow import PollPolicy, next_poll_s
from mavi_sync.api.model import DONE, FAILED
from mavi_sync.api.retry import backoff_s
from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.errors import AccountError, LedgerError, MaviSyncError, TransientError, Unreachable
from mavi_sync.ledger import FileRecord, Ledger
from mavi_sync.logs import get_logger
from mavi_sync.media.prober import ProbeHelper, Prober
from mavi_sync.pause import Outage, Pause
from mavi_sync.scanner import mark, skip_reason, walk_dirs
from mavi_sync.settle import Settler
from mavi_sync.states import State
from mavi_sync.uploader import Outcome, poll_policy, record_status, upload_path

log = get_logger("mavi_sync.engine")


LEDGER_PROBE_S = 10.0


@dataclass
class Counters:
    uploaded: int = 0
    bytes_sent: int = 0
    in_flight: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Snapshot:
    """Where the work stands, for status lines and the `sync` progress bar."""

    queued: int  # settling, waiting for a worker, or waiting for a retry
    uploading: int
    following: int  # uploaded; waiting for the remote side to confirm
    confirmed: int
    failed: int
    rejected: int  # refused with a reason, or vanished before upload
    bytes_sent: int
    paused: Optional[str]

    @property
    def finished(self) -> int:
        return self.confirmed + self.failed + self.rejected

    @property
    def pending(self) -> int:
        return self.queued + self.uploading + self.following


class Engine:
    def __init__(self, config: Config, ledger: Ledger, client: Client, *,
                 clock: Callable[[], float] = time.time, probe: Optional[Prober] = None) -> None:
        self.config = config
        self.ledger = ledger
        self.client = client
        self.clock = clock
        # Files are read in a helper process: FFmpeg stays out of the long-lived daemon (prober.py).
        self.probe: Prober = probe or ProbeHelper(idle_s=config.uploads.probe_idle_s)
        self.stop = client.stop  # one stop event: client waits and retries see it too
        self.draining = threading.Event()  # SIGTERM: take no new work, finish what is in flight
        self.pause = Pause()
        self.counters = Counters()
        self.settler = Settler()
        self._intake = threading.Lock()
        self.queue: "queue.Queue[Path]" = queue.Queue()
        self._queued: set[Path] = set()
        # Paths a worker is processing now, and those asked for again meanwhile: a path is
        # never in two workers at once (the scheduler re-finds READY rows every second).
        self._active: set[Path] = set()
        self._again: set[Path] = set()
        self._threads: list[threading.Thread] = []
        self.outage = Outage()
        self.on_upload: Callable[[float], None] = lambda seconds: None  # metrics hook
        logged = client.on_retry

        def count_retry(attempt: int, wait: float, exc: BaseException) -> None:
            self.counters.retries += 1
            logged(attempt, wait, exc)

        client.on_retry = count_retry

    # -- intake -------------------------------------------------------------------------
    def on_event(self, path: Path, folder: FolderConfig, kind: str) -> None:
        """A watcher event (from watchdog's thread)."""
        if kind == "dir":
            threading.Thread(target=self._walk_dir, args=(folder, path), daemon=True).start()
            return
        if kind == "deleted":
            with self._intake:
                self.settler.forget(path)
            return
        self._consider(path, folder, closed=(kind == "closed"))

    def _consider(self, path: Path, folder: FolderConfig, *, closed: bool = False,
                  st: Optional[os.stat_result] = None, unknown: bool = False) -> None:
        """`unknown`: the caller already found no matching ledger row (the walk asks per directory)."""
        try:
            st = st or os.stat(path, follow_symlinks=False)
        except OSError:
            return
        if not _is_file(st):
            reason = skip_reason(path, folder)
            if reason is not None:
                self._skip(path, reason)
            return
        if not unknown and not closed:
            known = self.ledger.lookup_path(path)
            if known is not None and known.matches(st):
                return  # unchanged since it was hashed: the scheduler owns it from here
        with self._intake:
            self.settler.seen(path, st.st_size, st.st_mtime_ns, folder.settle_s, time.monotonic(),
                              self.clock(), closed=closed)

    def reconfigure(self, config: Config) -> None:
        """A reloaded config: read afresh by each file from now on; the probe helper's idle
        time applies from the next helper started."""
        self.config = config
        if isinstance(self.probe, ProbeHelper):
            self.probe.idle_s = config.uploads.probe_idle_s

    def walk(self) -> int:
        """Reconcile every folder with the ledger: unchanged known files are skipped without
        hashing; new and changed ones go to settle. Returns how many files were looked at."""
        seen = 0
        for folder in self.config.folders:
            seen += self._walk_dir(folder, folder.path)
        for raw, _reason, _at in self.ledger.skipped(limit=100_000):
            if not os.path.lexists(raw):  # the FIFO or link is gone: nothing left to explain
                self.ledger.unskip(raw)
        return seen

    def _skip(self, path: Path, reason: str) -> None:
        """A path with nothing to upload: recorded with the reason, logged once."""
        if self.ledger.skip(path, reason):
            log.warning("file_skipped", path=str(path), reason=reason)

    def _walk_dir(self, folder: FolderConfig, top: Path) -> int:
        """Walk `top` (the folder or a directory inside it); a file whose size, mtime and inode
        match its ledger row costs one stat and is never read again. A directory whose mark
        (scanner.mark) is the ledger's costs one row, not one per file."""
        seen = 0
        visited: Optional[list[str]] = [] if top == folder.path else None  # a full walk: see below
        for listing in walk_dirs(folder, None if top == folder.path else top):
            if self.stop.is_set():
                return seen
            if listing.error:
                self._skip(Path(listing.directory), listing.error)
                visited = None  # what is under it went unseen, not away (an unmounted disk)
            elif visited is not None:
                visited.append(listing.directory)
            seen += len(listing.entries)
            if not listing.entries:
                continue
            # Wall time, not self.clock: it is compared with the file system's ctime.
            marked = mark(listing, time.time())
            if marked is not None and self.ledger.mark_of(listing.directory) == marked:
                continue  # the same files, unchanged, as when the ledger last knew them all
            known = self.ledger.known_in(listing.directory)
            news = [(name, st, problem) for name, st, problem in listing.entries
                    if problem or st is None or known.get(name) != (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)]
            if not news and marked is not None:
                self.ledger.set_mark(listing.directory, marked, len(listing.entries))
            for name, st, problem in sorted(news, key=itemgetter(0)):  # in name order: NVR names are times
                if problem or st is None:
                    self._skip(Path(listing.directory, name), problem or "cannot read")
                else:
                    self._consider(Path(listing.directory, name), folder, st=st, unknown=True)
        if visited is not None:  # every directory of the folder was listed: marks of others are stale
            self.ledger.prune_marks(folder.path, visited)
        return seen

    def settle_tick(self) -> int:
        """Move settled files to the work queue; returns how many."""
        with self._intake:
            ready, _gone = self.settler.due(time.monotonic(), _stat_pair)
        for path in ready:
            self.enqueue(path)
        return len(ready)

    def enqueue(self, path: Path) -> None:
        with self._intake:
            if path in self._active:
                self._again.add(path)  # queued again once its worker is done with it
                return
            if path in self._queued:
                return
            self._queued.add(path)
        self.queue.put(path)

    # -- workers ------------------------------------------------------------------------
    def start(self, workers: int) -> None:
        loops = [("worker", self._worker)] * workers + [("scheduler", self._scheduler), ("follower", self._follower)]
        for i, (name, target) in enumerate(loops):
            thread = threading.Thread(target=target, name=f"{name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _worker(self) -> None:
        while not self.stop.is_set() and not self.draining.is_set():
            if not self.pause.wait(0.5):
                continue
            try:
                path = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            with self._intake:
                self._queued.discard(path)
                if self.draining.is_set():
                    break
                self._active.add(path)
                self.counters.in_flight += 1
            try:
                self.process(path)
            except LedgerError as exc:  # a full or read-only disk: stop intake, not the daemon
                self._ledger_failed(exc)
            except MaviSyncError as exc:  # never let one file stop a worker
                log.error("file_error", path=str(path), error=str(exc), error_type=exc.__class__.__name__)
            finally:
                with self._intake:  # += on a shared int is not atomic across threads
                    self.counters.in_flight -= 1
                    self._active.discard(path)
                    again = path in self._again
                    self._again.discard(path)
                if again:
                    self.enqueue(path)

    def process(self, path: Path) -> Optional[Outcome]:
        """One ready path: upload it (or not: known, waiting, refused) and record the outcome."""
        folder = self.config.folder_for(path)
        if folder is None:
            return None
        started = time.monotonic()
        try:
            outcome = upload_path(path, folder, self.config, self.ledger, self.client, clock=self.clock,
                                  unattended=True, probe=self.probe)
        except AccountError as exc:
            self._account_failed(exc)
            return None
        self._note(outcome, time.monotonic() - started)
        return outcome

    def _account_failed(self, exc: AccountError) -> None:
        """Bad key, no credits, disabled: every upload waits (a worker's or the follower's find)."""
        if self.pause.set(exc.reason, self.clock(), self.config.uploads.account_probe_s):
            log.error("uploads_paused", reason=exc.reason, error=str(exc), hint=exc.hint)
            self.ledger.set_daemon(paused=exc.reason, paused_detail=str(exc))

    def _note(self, o: Outcome, seconds: float) -> None:
        r = o.record
        fields = {"path": str(o.path), "target": r.target if r else None, "sha256": r.sha256 if r else None,
                  "size": r.size if r else None, "attempt": r.attempts if r else None}
        if o.result is None and o.state == State.CONFIRMED and r is not None:
            self._after(r)  # a copy or rename of confirmed content: the folder's action applies
        if o.result is not None:
            self.counters.uploaded += 1
            self.counters.bytes_sent += o.result.bytes_sent
            self.on_upload(seconds)
            self._api_ok()
            log.info("upload_succeeded", remote_id=o.result.remote_id, adopted=o.result.adopted,
                     duration_ms=int(seconds * 1000), **fields)
            if r is not None and o.state == State.UPLOADED:
                self.ledger.transition(r.id, State.UPLOADED,
                                       next_poll_at=self.clock() + self.config.uploads.status_poll_initial_s)
            if r is not None and o.state == State.CONFIRMED:
                self._after(r)
        elif o.state == State.REJECTED and "already" not in o.detail:
            log.warning("media_rejected", reason=o.detail, **fields)
        elif o.state == State.READY and r is not None and r.next_attempt_at and r.last_error == o.detail:
            log.warning("upload_retrying", error=o.detail, wait_s=round(r.next_attempt_at - self.clock(), 1), **fields)
            self._api_error(o)
        elif o.state == State.FAILED and r is not None and r.last_error == o.detail:
            log.error("upload_failed", error=o.detail, **fields)
            self._api_error(o)
        elif o.state == State.VANISHED:
            log.info("file_vanished", path=str(o.path))
        elif o.state == State.FAILED and r is None:  # could not even be read: no content to key by
            self._skip(o.path, o.detail)

    def _api_error(self, o: Outcome) -> None:
        """An API that cannot be reached pauses every worker; one trial goes through after
        5 s, then 10, 20… up to 5 min (pause.py), so a long outage costs a few requests."""
        if o.error is None or not self.outage.failed(o.error, self.clock()):
            return
        probe_s = self.outage.probe_s()
        if self.pause.set("outage", self.clock(), probe_s):
            log.error("api_unreachable", error=o.detail, next_probe_s=probe_s,
                      hint="uploads wait; nothing is marked failed because of it")
        r = o.record
        if r is not None and not isinstance(o.error, Unreachable):  # (Unreachable used none)
            self.ledger.transition(r.id, State.READY, attempts=max(0, r.attempts - 1))  # the outage's, not the file's
        self.ledger.set_daemon(outage=o.detail, outage_since=str(self.outage.since), paused="outage",
                               paused_detail=o.detail)

    def _api_ok(self) -> None:
        """An upload got through: any pause (an outage, or an account problem whose trial
        passed) is over. Kept in memory: a success costs no ledger read."""
        since = self.outage.answered()
        if since is not None:
            log.info("api_recovered", outage_s=round(self.clock() - since, 1))
        ended = self.pause.paused and self.pause.reason != "ledger" and self.pause.clear()
        if ended or since is not None:
            self.ledger.set_daemon(outage=None, outage_since=None, paused=None, paused_detail=None)

    def _after(self, record: FileRecord) -> None:
        for done in after.apply(self.config, self.ledger, record.id):
            event = {"archived": "file_archived", "deleted": "file_deleted"}.get(done.action, "file_kept")
            log.info(event, path=str(done.path), dest=str(done.dest) if done.dest else None, detail=done.detail)

    # -- scheduler: retries, cool-downs, resumed attempts, account probes ---------------
    def _scheduler(self) -> None:
        resumed = False
        while not self.stop.wait(1.0):
            if self.draining.is_set():
                return
            if self.pause.paused:
                self._probe()
                continue
            try:
                if not resumed:  # work cut off by the last stop: resume it (videos are looked up first)
                    for state in (State.UPLOADING, State.DISCOVERED):
                        self._enqueue_records(self.ledger.files(state=state, limit=100000))
                    resumed = True
                self.schedule_due()
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
                self.enqueue(Path(os.fsdecode(raw)))

    def _ledger_failed(self, exc: LedgerError) -> None:
        if self.pause.set("ledger", self.clock(), LEDGER_PROBE_S):
            log.error("ledger_unwritable", error=str(exc), next_probe_s=LEDGER_PROBE_S,
                      hint="Free disk space or make the ledger writable; intake resumes by itself. "
                           "Nothing is lost: files not yet recorded are found again by a walk.")

    def _probe(self) -> None:
        """While paused: after the pause's probe interval, one trial (pause.py)."""
        if self.pause.reason == "ledger":
            if self.clock() - self.pause.since >= self.pause.probe_s:
                try:
                    self.ledger.set_daemon(ledger_probe=str(self.clock()))
                except LedgerError:
                    self.pause.set("ledger", self.clock(), LEDGER_PROBE_S)
                    self.pause.since = self.clock()
                    return
                log.info("ledger_writable_again")
                self.pause.clear()
                threading.Thread(target=self.walk, name="walk-after-ledger", daemon=True).start()
            return
        reason = self.pause.reason
        if self.clock() - self.pause.since < self.pause.probe_s:
            return
        self.schedule_due()  # the trial needs work in the queue to try with
        if self.pause.trial(self.clock()):
            if reason == "outage":
                self.outage.trial_opened()
            log.info("uploads_probing", reason=reason)

    # -- follower -----------------------------------------------------------------------
    def _follower(self) -> None:
        policy = poll_policy(self.config)
        while not self.stop.wait(0.5):
            if self.draining.is_set():
                return
            try:
                self.follow_due(policy)
            except MaviSyncError as exc:
                log.error("follower_error", error=str(exc))

    def follow_due(self, policy: PollPolicy) -> int:
        """Poll every uploaded file whose time has come; returns how many were polled."""
        records = self.ledger.due(State.UPLOADED, self.clock(), column="next_poll_at", limit=50)
        for record in records:
            if self.stop.is_set() or self.pause.paused:
                break
            self._poll(record, policy)
        return len(records)

    def _poll(self, record: FileRecord, policy: PollPolicy) -> None:
        assert record.remote_id is not None
        try:
            status = self.client.status(record.target, record.remote_id, record.namespace)
        except AccountError as exc:
            self._account_failed(exc)
            return
        except TransientError as exc:
            wait = backoff_s(record.polls + 1, policy.initial_s, policy.max_s)
            self.ledger.transition(record.id, State.UPLOADED, next_poll_at=self.clock() + wait, last_error=str(exc))
            return
        updated = record_status(self.ledger, record, status)
        if status.raw != record.remote_status:
            log.info("remote_status_changed", path=self._path(record), sha256=record.sha256, target=record.target,
                     remote_id=record.remote_id, status=status.raw, cause=status.cause or None)
        if status.state == DONE:
            self._after(updated)
        elif status.state == FAILED:
            cooldown = self.config.uploads.failed_cooldown_s
            self.ledger.transition(updated.id, State.FAILED,
                                   next_attempt_at=self.clock() + cooldown if cooldown else None)
        else:
            self._schedule_poll(updated, policy)

    def _schedule_poll(self, record: FileRecord, policy: PollPolicy) -> None:
        now = self.clock()
        flagged = record.uploaded_at is not None and now - record.uploaded_at > policy.give_up_s
        error = (f"remote status still {record.remote_status} after {policy.give_up_s:g} s" if flagged
                 else record.last_error)
        self.ledger.transition(record.id, State.UPLOADED, next_poll_at=now + next_poll_s(record.polls, policy),
                               last_error=error)

    def _path(self, record: FileRecord) -> Optional[str]:
        raw = self.ledger.path_of(record.id)
        return os.fsdecode(raw) if raw else None

    # -- shutdown -------------------------------------------------------------------------
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
        if isinstance(self.probe, ProbeHelper):
            self.probe.close()
        return finished

    def snapshot(self) -> Snapshot:
        counts: dict[str, int] = {}
        for (state, _target), n in self.ledger.counts().items():
            counts[state] = counts.get(state, 0) + n
        return Snapshot(queued=self.queue.qsize() + len(self.settler) + counts.get("ready", 0)
                        + counts.get("discovered", 0),
                        uploading=self.counters.in_flight, following=counts.get("uploaded", 0),
                        confirmed=counts.get("confirmed", 0), failed=counts.get("failed", 0),
                        rejected=counts.get("rejected", 0) + counts.get("vanished", 0),
                        bytes_sent=self.counters.bytes_sent,
                        paused=self.pause.reason if self.pause.paused else None)

    def summary(self) -> str:
        """The one-line status for systemd and logs: queued / uploading / done / failed."""
        s = self.snapshot()
        text = (f"queued {s.queued}, uploading {s.uploading}, done {s.confirmed + s.following}, "
                f"failed {s.failed}")
        return text + (f"; PAUSED: {s.paused}" if s.paused else "")


def _is_file(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


def _stat_pair(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)
