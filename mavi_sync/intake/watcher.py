"""watchdog, adapted: each folder is watched by inotify, or polled when it is on a network
mount, when the config says so, or when the kernel runs out of inotify watches.

Events only *suggest* that a path may be ready; the daemon's intake decides (settle.py).
All folders share one inotify instance (watchdog's InotifyObserver owns one), one
recursive watch group per folder. watchdog would put a watch on every subdirectory;
`_PrunedWatchGroup` skips excluded ones (`@eaDir`, `#recycle`, hidden, the archive dir)
so they cost no watches and raise no events: a NAS thumbnailer rewriting @eaDir all
night would otherwise wake the daemon for nothing. The periodic rescan covers what
inotify misses (queue overflow, directories created faster than watches are added).
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path, PurePosixPath
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple, Optional

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import DEFAULT_OBSERVER_TIMEOUT, BaseObserver
from watchdog.observers.inotify import InotifyEmitter, InotifyWatchGroup
from watchdog.observers.inotify_c import InotifyFD
from watchdog.observers.polling import PollingObserver

from mavi_sync.config.schema import FolderConfig
from mavi_sync.intake.filters import dir_rule, is_selected
from mavi_sync.logs import get_logger
from mavi_sync.intake.mounts import counts_subdirs, fs_type, is_network, read_mounts

log = get_logger("mavi_sync.intake.watcher")
POLL_INTERVAL_S = 5.0

# (path, what happened): "changed", "closed" (written and closed), "deleted", "dir" (a new directory)
OnEvent = Callable[[Path, FolderConfig, str], None]


_IN_ONLYDIR = 0x01000000
_IN_CREATE = 0x00000100


def pruner(folder: FolderConfig) -> Callable[[str], bool]:
    """For a directory path under `folder`: True when it is never walked nor watched."""
    return dir_rule(folder).pruned


class Subtree(NamedTuple):
    """How to find the directories to watch under one folder."""

    prune: Callable[[str], bool]  # True for a directory never walked nor watched
    leaf_dev: Optional[int] = None  # the device whose link counts are trusted (see watched_dirs)


def subtree(folder: FolderConfig, mounts: list[tuple[str, str]]) -> Subtree:
    leaf_dev = None
    if counts_subdirs(fs_type(folder.path, mounts)):
        try:
            leaf_dev = os.stat(folder.path).st_dev
        except OSError:  # missing: nothing to watch, and the walk reports it
            pass
    return Subtree(pruner(folder), leaf_dev)


def watched_dirs(root: str, tree: Subtree, follow_symlinks: bool = False) -> Iterator[str]:
    """`root` and every directory under it that `tree` keeps, each one yielded before it is
    listed: a watch the caller adds on it is in place before its subdirectories are looked
    for, so one created meanwhile raises an event instead of going unseen.

    A directory on `tree.leaf_dev` whose link count says it has no subdirectory is not
    listed at all. An NVR's hour folders hold hundreds of files and no directory; listing
    them was two passes of 0.08 s per 100,000 files at start-up (this one and watchdog's),
    taken from the start-up walk's share of the GIL.
    """
    stack = [root]
    while stack:
        top = stack.pop()
        yield top
        try:
            st = os.stat(top)
            if st.st_nlink == 2 and st.st_dev == tree.leaf_dev:
                continue
            with os.scandir(top) as entries:
                subs = [e.path for e in entries if e.is_dir(follow_symlinks=follow_symlinks) and not tree.prune(e.path)]
        except OSError:  # gone or unreadable: the periodic rescan reports it
            continue
        stack.extend(reversed(subs))


def inotify_shortfall(root: Path, recursive: bool, tree: Subtree = Subtree(lambda _p: False)) -> str:
    """Why inotify cannot watch every directory under `root` now ("" when it can).

    Adds (then drops) a watch on each directory with a throw-away inotify instance: the
    only sure way to learn whether the kernel's watch budget covers the tree.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        return f"inotify_init failed: {os.strerror(ctypes.get_errno())}"
    try:
        for directory in watched_dirs(str(root), tree) if recursive else [str(root)]:
            if libc.inotify_add_watch(fd, os.fsencode(directory), _IN_CREATE | _IN_ONLYDIR) < 0:
                err = ctypes.get_errno()
                if err == errno.ENOSPC:
                    return "inotify watch limit reached (fs.inotify.max_user_watches)"
                if err == errno.ENOMEM:
                    return "no kernel memory for more inotify watches"
    finally:
        os.close(fd)
    return ""


@dataclass
class _PrunedWatchGroup(InotifyWatchGroup):
    """watchdog's recursive watch group, minus the directories `prune` names.

    `_add_all_callbacks` is where watchdog adds watches: at start, for a directory created
    or moved in, and after a queue overflow; so pruning there covers all three. It is a
    private method: pyproject pins watchdog to the major version this was written against,
    and tests/test_watcher.py reads the kernel's list of watches to prove it still works.
    """

    tree: Subtree = field(default=Subtree(lambda _p: False))

    def _add_all_callbacks(self, path: bytes) -> None:
        if path != self.path and self.tree.prune(os.fsdecode(path)):
            return
        if not self.is_recursive or not os.path.isdir(path):
            self._add_callback(path)
            return
        for directory in watched_dirs(os.fsdecode(path), self.tree, self.follow_symlink):
            self._add_callback(os.fsencode(directory))


class _PrunedEmitter(InotifyEmitter):
    def __init__(self, *args: Any, tree_for: Callable[[str], Subtree], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tree = tree_for(self.watch.path)

    def on_thread_start(self) -> None:
        self._inotify = _PrunedWatchGroup(self._inotify_fd, os.fsencode(self.watch.path),
                                          is_recursive=self.watch.is_recursive,
                                          event_mask=self.get_event_mask_from_filter(),
                                          follow_symlink=self.watch.follow_symlink, tree=self._tree)


class _PrunedObserver(BaseObserver):
    """watchdog's InotifyObserver with pruned watch groups: one inotify instance for all folders."""

    def __init__(self, tree_for: Callable[[str], Subtree]) -> None:
        self._inotify_fd = InotifyFD()
        self._inotify_fd.start()
        super().__init__(_PrunedEmitter, timeout=DEFAULT_OBSERVER_TIMEOUT, inotify_fd=self._inotify_fd,
                         tree_for=tree_for)

    def on_thread_stop(self) -> None:
        super().on_thread_stop()
        self._inotify_fd.stop()
        self._inotify_fd.join()


# What _Handler acts on. Without a filter watchdog asks inotify for opens and no-write
# closes too: every file the daemon hashes or sends (and every one a media player reads)
# came back as two events handled in Python, 200,000 of them on a 100,000-file first start.
WANTED_EVENTS = [FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileMovedEvent, FileDeletedEvent,
                 DirCreatedEvent, DirMovedEvent, DirDeletedEvent]


class _Handler(FileSystemEventHandler):
    def __init__(self, folder: FolderConfig, on_event: OnEvent) -> None:
        self.folder = folder
        self.on_event = on_event
        self._rule = dir_rule(folder)

    def _wanted(self, raw: str | bytes, *, is_dir: bool = False) -> Path | None:
        """The event's path, or None when it is outside the folder, below a directory the
        folder prunes (filters.DirRule), or deeper than a non-recursive folder looks."""
        path = Path(raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw)
        try:
            rel = path.relative_to(self.folder.path)
        except ValueError:
            return None
        if self._rule.pruned(str(path if is_dir else path.parent)):
            return None
        if not self.folder.recursive and len(rel.parts) > 1:
            return None
        return path

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, (DirCreatedEvent, DirMovedEvent)):
            target = event.dest_path if isinstance(event, DirMovedEvent) else event.src_path
            path = self._wanted(target, is_dir=True)
            if path is not None:
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
        self._trees: dict[str, Subtree] = {}
        self.inotify: BaseObserver | None = None
        self.polling: BaseObserver = PollingObserver(timeout=POLL_INTERVAL_S)
        self.modes: dict[Path, str] = {}
        self._no_inotify = ""

    def start(self) -> None:
        # Started first, so that a failing watch (no inotify watches left) raises in
        # schedule() for that folder alone, and that folder can fall back to polling.
        try:
            self.inotify = _PrunedObserver(lambda path: self._trees[os.fsdecode(path)])
            self.inotify.start()
        except OSError as exc:  # EMFILE: no inotify instance left (fs.inotify.max_user_instances)
            self.inotify = None
            self._no_inotify = str(exc)
        self.polling.start()
        mounts = read_mounts()
        self._trees = {os.fsdecode(f.path): subtree(f, mounts) for f in self.folders}
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
            short = (f"no inotify instance: {self._no_inotify}" if self.inotify is None
                     else inotify_shortfall(folder.path, folder.recursive, self._trees[os.fsdecode(folder.path)]))
            if short:
                # watchdog silently skips subdirectories it cannot watch: check first.
                limit = "max_user_instances" if self.inotify is None else "max_user_watches"
                log.warning("inotify_exhausted", path=str(folder.path), error=short,
                            hint=f"raise fs.inotify.{limit}; polling this folder meanwhile")
                mode = "poll"
        if mode == "inotify" and self.inotify is not None:
            try:
                self.inotify.schedule(handler, str(folder.path), recursive=folder.recursive,
                                      event_filter=WANTED_EVENTS)
                self.modes[folder.path] = "inotify"
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                log.warning("inotify_exhausted", path=str(folder.path), error=str(exc),
                            hint="raise fs.inotify.max_user_watches / max_user_instances; polling this folder")
        self.polling.schedule(handler, str(folder.path), recursive=folder.recursive, event_filter=WANTED_EVENTS)
        self.modes[folder.path] = "poll"

    def stop(self) -> None:
        observers = [o for o in (self.inotify, self.polling) if o is not None]
        for observer in observers:
            observer.stop()
        for observer in observers:
            if observer.is_alive():
                observer.join(10)
