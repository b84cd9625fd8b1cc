"""watchdog, adapted: each folder is watched by inotify, or polled when it is on a network
mount, when the config says so, or when the kernel runs out of inotify watches.

Events only *suggest* that a path may be ready; the daemon's intake decides (settle.py).
watchdog keeps one inotify instance per scheduled watch, so each folder gets one
recursive watch (per-directory watches would exhaust the 128-instance default); events
from excluded directories are dropped here, and the periodic rescan covers what inotify
misses (queue overflow, directories created faster than watches are added).
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from mavi_sync.config.schema import FolderConfig
from mavi_sync.filters import is_excluded_dir, is_selected
from mavi_sync.logs import get_logger
from mavi_sync.mounts import fs_type, is_network, read_mounts

log = get_logger("mavi_sync.watcher")
POLL_INTERVAL_S = 5.0

# (path, what happened): "changed", "closed" (written and closed), "deleted", "dir" (a new directory)
OnEvent = Callable[[Path, FolderConfig, str], None]


_IN_ONLYDIR = 0x01000000
_IN_CREATE = 0x00000100


def inotify_shortfall(root: Path, recursive: bool) -> str:
    """Why inotify cannot watch every directory under `root` now ("" when it can).

    Adds (then drops) a watch on each directory with a throw-away inotify instance: the
    only sure way to learn whether the kernel's watch budget covers the tree.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        return f"inotify_init failed: {os.strerror(ctypes.get_errno())}"
    try:
        for directory in _directories(root, recursive):
            if libc.inotify_add_watch(fd, os.fsencode(directory), _IN_CREATE | _IN_ONLYDIR) < 0:
                err = ctypes.get_errno()
                if err == errno.ENOSPC:
                    return "inotify watch limit reached (fs.inotify.max_user_watches)"
                if err == errno.ENOMEM:
                    return "no kernel memory for more inotify watches"
    finally:
        os.close(fd)
    return ""


def _directories(root: Path, recursive: bool) -> Iterator[str]:
    yield str(root)
    if recursive:
        for top, dirs, _files in os.walk(root):
            for name in dirs:
                path = os.path.join(top, name)
                if not os.path.islink(path):
                    yield path


class _Handler(FileSystemEventHandler):
    def __init__(self, folder: FolderConfig, on_event: OnEvent) -> None:
        self.folder = folder
        self.on_event = on_event

    def _wanted(self, raw: str | bytes) -> Path | None:
        path = Path(raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw)
        try:
            rel = PurePosixPath(path.relative_to(self.folder.path).as_posix())
        except ValueError:
            return None
        if any(is_excluded_dir(part) for part in rel.parts[:-1]):
            return None
        if self.folder.archive_dir is not None and path.is_relative_to(self.folder.archive_dir):
            return None
        if not self.folder.recursive and len(rel.parts) > 1:
            return None
        return path

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, (DirCreatedEvent, DirMovedEvent)):
            target = event.dest_path if isinstance(event, DirMovedEvent) else event.src_path
            path = self._wanted(target)
            if path is not None and not is_excluded_dir(path.name):
                self.on_event(path, self.folder, "dir")
            return
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):  # a rename into a real name counts as new
            self._file(event.src_path, "deleted")
            self._file(event.dest_path, "changed")
        elif isinstance(event, FileDeletedEvent):
            self._file(event.src_path, "deleted")
        elif isinstance(event, FileClosedEvent):
            self._file(event.src_path, "closed")
        elif event.event_type in ("created", "modified"):
            self._file(event.src_path, "changed")

    def _file(self, raw: str | bytes, kind: str) -> None:
        path = self._wanted(raw)
        if path is None:
            return
        rel = PurePosixPath(path.relative_to(self.folder.path).as_posix())
        if kind == "deleted" or is_selected(rel, self.folder):
            self.on_event(path, self.folder, kind)


class Watcher:
    """Watches every folder; `modes` says how each one ended up watched."""

    def __init__(self, folders: tuple[FolderConfig, ...], on_event: OnEvent) -> None:
        self.folders = folders
        self.on_event = on_event
        self.inotify: BaseObserver = Observer()
        self.polling: BaseObserver = PollingObserver(timeout=POLL_INTERVAL_S)
        self.modes: dict[Path, str] = {}

    def start(self) -> None:
        # Started first, so that a failing watch (no inotify watches left) raises in
        # schedule() for that folder alone, and that folder can fall back to polling.
        self.inotify.start()
        self.polling.start()
        mounts = read_mounts()
        for folder in self.folders:
            self._schedule(folder, self._mode(folder, mounts))

    def _mode(self, folder: FolderConfig, mounts: list[tuple[str, str]]) -> str:
        if folder.watch != "auto":
            return folder.watch
        kind = fs_type(folder.path, mounts)
        if is_network(kind):
            log.info("folder_polled", path=str(folder.path), reason=f"{kind} is a network file system")
            return "poll"
        return "inotify"

    def _schedule(self, folder: FolderConfig, mode: str) -> None:
        handler = _Handler(folder, self.on_event)
        if mode == "inotify":
            short = inotify_shortfall(folder.path, folder.recursive)
            if short:
                # watchdog silently skips subdirectories it cannot watch: check first.
                log.warning("inotify_exhausted", path=str(folder.path), error=short,
                            hint="raise fs.inotify.max_user_watches; polling this folder meanwhile")
                mode = "poll"
        if mode == "inotify":
            try:
                self.inotify.schedule(handler, str(folder.path), recursive=folder.recursive)
                self.modes[folder.path] = "inotify"
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                log.warning("inotify_exhausted", path=str(folder.path), error=str(exc),
                            hint="raise fs.inotify.max_user_watches / max_user_instances; polling this folder")
        self.polling.schedule(handler, str(folder.path), recursive=folder.recursive)
        self.modes[folder.path] = "poll"

    def stop(self) -> None:
        for observer in (self.inotify, self.polling):
            observer.stop()
        for observer in (self.inotify, self.polling):
            if observer.is_alive():
                observer.join(10)
