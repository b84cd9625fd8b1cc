"""The after-upload action's one owner: what is due, doing it, recording it.

Once the server holds a file (every part of it confirmed), each of its paths in a folder
whose `after_upload` is `archive` or `delete` is owed that action: a duty in the ledger,
written before it is tried. Done, the path leaves the ledger in the same write that records
where the bytes went (`Ledger.place_of`). A failure (the folder not writable, a full archive
disk, a copy cut short) is logged once with what to do and tried again with back-off
(`retry_initial_s` doubling up to `retry_max_s`); a stop or a crash leaves the duty owed, and
the next start does it. Confirmed paths nothing is owed for (a crash between the
confirmation and the duty's write, a ledger from before duties, a folder switched from
`keep`) are found at start and after a reload.

A caption sidecar beside a clip follows it (archived beside it, deleted with it); a caption
that arrives later is written beside the clip where it is now. Both hold one lock, so a
sidecar is never written beside a clip while it is being moved.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path
from typing import Callable, Optional

from mavi_sync.pipeline import events
from mavi_sync.after.move import archive, free_name, move_text, remove
from mavi_sync.captions.store import SIDECAR_SUFFIX, write_sidecar
from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.errors import MaviSyncError
from mavi_sync.ledger.records import Duty, FileRecord, Place
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.after")

TICK_S = 1.0
BATCH = 100  # duties done per pass: a backlog never starves the stop check
ERROR_WAIT_S = 10.0  # after the ledger failed (as the engine's ledger probe)


class AfterUpload:
    """Archive or delete what the server holds, as each folder says; thread-safe."""

    def __init__(self, config: Config, ledger: Ledger, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.ledger = ledger
        self.clock = clock
        self.on_caption: Callable[[Optional[str], str], None] = lambda path, text: None  # notifications
        self._lock = threading.Lock()
        self._review = True  # look for confirmed paths nothing is owed for (start, reload)

    def reconfigure(self, config: Config) -> None:
        self.config = config
        self._review = True

    # -- what is due ----------------------------------------------------------------------
    def confirmed(self, record: FileRecord) -> None:
        """The server holds `record`'s content: owe each of its paths its folder's action,
        then do it. A motion photo's still waits for its clip (`all_parts_confirmed`)."""
        try:
            if not self.ledger.all_parts_confirmed(record.id):
                return
            owners = set()
            for raw in self.ledger.paths_of(record.id):
                known, folder = self.ledger.lookup_path(raw), self._folder(raw)
                if known is not None and known.file_id is not None and folder is not None:
                    self.ledger.owe(raw, known.file_id, folder.after_upload)
                    owners.add(known.file_id)
        except MaviSyncError:  # the ledger (a full disk): the loop's next review finds what was not owed
            self._review = True
            raise
        for owner in owners:
            self.do(self.ledger.duties(file_id=owner))

    def review(self) -> int:
        """Owe what the ledger holds no duty for; returns how many were found."""
        found = 0
        for folder in self.config.folders:
            if folder.after_upload == "keep":
                continue
            for raw, file_id in self.ledger.unowed(str(folder.path)):
                if self.ledger.all_parts_confirmed(file_id) and self.ledger.owe(raw, file_id, folder.after_upload):
                    found += 1
        if found:
            log.info("after_upload_found", files=found, hint="confirmed before their action was recorded")
        return found

    def run(self, stop: threading.Event, draining: threading.Event) -> None:
        """The daemon's loop: at start and after a reload look for what is owed, then do each
        duty whose time has come."""
        while not stop.wait(TICK_S) and not draining.is_set():
            try:
                if self._review:
                    self._review = False
                    self.review()
                self.do(self.ledger.duties(due_by=self.clock(), limit=BATCH), stop)
            except MaviSyncError as exc:  # the ledger (a full disk, a fleet's database away): later
                self._review = True
                log.error("after_upload_error", error=str(exc), error_type=exc.__class__.__name__,
                          next_try_s=ERROR_WAIT_S)
                stop.wait(ERROR_WAIT_S)

    def waiting(self) -> dict[str, tuple[int, float]]:
        """{action: (owed, since when the oldest is)} for the metrics."""
        return {action: (n, oldest.due_at) for action, (n, oldest) in self.ledger.waiting(self.clock()).items()}

    # -- doing it ---------------------------------------------------------------------------
    def do(self, duties: list[Duty], stop: Optional[threading.Event] = None) -> None:
        for listed in duties:
            if stop is not None and stop.is_set():
                return
            with self._lock:  # read again under the lock: another thread may have done or tried it
                duty = next((d for d in self.ledger.duties(file_id=listed.file_id) if d.path == listed.path), None)
                if duty is not None and duty.next_at <= self.clock():
                    self._do(duty)

    def _do(self, duty: Duty) -> None:
        path = Path(os.fsdecode(duty.path))
        folder, known = self._folder(duty.path), self.ledger.lookup_path(duty.path)
        if folder is None or known is None or known.file_id != duty.file_id:  # its folder keeps it now, or left
            self.ledger.duty_void(duty.path)
            return
        try:
            st = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            self._gone(duty, path)
            return
        except OSError as exc:
            self._failed(duty, path, folder, exc)
            return
        if not known.matches(st):  # a new version, which intake registers: not what the server holds
            self.ledger.duty_void(duty.path)
            log.info("file_kept", path=str(path), detail="changed since it was uploaded: left alone")
            return
        try:
            if folder.after_upload == "delete":
                self._delete(path, folder)
                self.ledger.duty_done(duty.path, "deleted")
                log.info("file_deleted", path=str(path), attempt=duty.attempts + 1)
            else:
                dest = self._archive(duty, path, folder)
                self.ledger.duty_done(duty.path, "archived", os.fsencode(dest))
                log.info("file_archived", path=str(path), dest=str(dest), attempt=duty.attempts + 1)
        except OSError as exc:
            self._failed(duty, path, folder, exc)

    def _gone(self, duty: Duty, path: Path) -> None:
        """The path holds nothing: archived by an attempt whose record failed (the ledger's
        disk full right after the move: the copy is checked before it takes its name), or
        taken away by someone else."""
        if duty.dest is not None and os.path.exists(duty.dest):
            self.ledger.duty_done(duty.path, "archived", duty.dest)
        else:
            self.ledger.forget_path(duty.path, "gone")
            log.info("file_kept", path=str(path), detail="no longer there")

    def _delete(self, path: Path, folder: FolderConfig) -> None:
        if folder.caption_sidecar == "beside":
            try:
                remove(_beside(path))
            except FileNotFoundError:  # none, or the user deleted it: nothing to do
                pass
        remove(path)

    def _archive(self, duty: Duty, path: Path, folder: FolderConfig) -> Path:
        """Move the clip (and its sidecar first) to the name chosen at the first attempt."""
        assert folder.archive_dir is not None  # config validation requires it with "archive"
        dest = Path(os.fsdecode(duty.dest)) if duty.dest is not None else None
        for _ in range(2):
            if dest is None:  # chosen once and kept: a retry finishes what an attempt began
                dest = free_name(folder.archive_dir / path.relative_to(folder.path), (SIDECAR_SUFFIX,))
                self.ledger.duty_tried(duty.path, dest=os.fsencode(dest))
            if folder.caption_sidecar == "beside":
                move_text(_beside(path), _beside(dest))
            try:
                archive(path, dest)
                return dest
            except FileExistsError:  # someone else's file took the name meanwhile: another one
                dest = None
        raise FileExistsError(errno.EEXIST, "the archive's names for it are taken", str(folder.archive_dir))

    def _failed(self, duty: Duty, path: Path, folder: FolderConfig, exc: OSError) -> None:
        """Record the failure and when to try again; logged when it starts or its reason changes."""
        u = self.config.uploads
        wait = min(u.retry_max_s, u.retry_initial_s * 2 ** duty.attempts)
        error = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        self.ledger.duty_tried(duty.path, error=error, next_at=self.clock() + wait)
        fields = {"path": str(path), "action": folder.after_upload, "error": error, "attempt": duty.attempts + 1,
                  "wait_s": round(wait, 1)}
        if duty.attempts == 0 or error != duty.last_error:
            log.error("after_upload_failed", **fields, hint=_hint(exc, folder))
        else:
            log.debug("after_upload_retrying", **fields)

    # -- captions ---------------------------------------------------------------------------
    def caption(self, file_id: int, text: str, path: Optional[Path] = None, *, via: str = "callback") -> None:
        """A clip's caption is known (a sync answer, or the receiver's callback): written where
        the folder wants it, beside the clip where it is now, and logged."""
        with self._lock:
            place = Place("watched", os.fsencode(path)) if path is not None else self.ledger.place_of(file_id)
            clip = Path(os.fsdecode(place.was or place.path)) if place is not None else None
            folder = self.config.folder_for(clip) if clip is not None else None
            written = error = None
            if place is not None and clip is not None and folder is not None:
                now_at = Path(os.fsdecode(place.path)) if place.how in ("watched", "archived") else None
                try:
                    dest = write_sidecar(folder, clip, now_at, text)
                    written = str(dest) if dest else None
                except OSError as exc:
                    error = f"{exc.strerror or exc} ({exc.filename or ''})"
            shown = os.fsdecode(place.path) if place is not None else None
        events.caption_logged(shown, text, via=via, written=written, error=error)
        self.on_caption(shown, text)

    def _folder(self, raw: bytes) -> Optional[FolderConfig]:
        """The path's folder when it archives or deletes (None: keeps, or no folder)."""
        folder = self.config.folder_for(Path(os.fsdecode(raw)))
        return folder if folder is not None and folder.after_upload != "keep" else None


def _beside(clip: Path) -> Path:
    return clip.with_name(clip.name + SIDECAR_SUFFIX)


def _hint(exc: OSError, folder: FolderConfig) -> str:
    then = ("mavi-sync tries again by itself, waiting longer each time (`mavi-sync status` shows what waits); "
            "meanwhile the file stays where it is and is not uploaded again.")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The archive's disk ({folder.archive_dir}) is full: free space there. {then}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        where = Path(exc.filename).parent if exc.filename and not os.path.isdir(exc.filename) else exc.filename
        return (f"Make {where or folder.path} writable for mavi-sync's user (under systemd, a drop-in's "
                f"ReadWritePaths=). {then}")
    return then
