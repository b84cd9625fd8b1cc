"""Walking watched folders, and comparing what is there with the ledger.

The walk never follows a symlink unless the folder says so, never leaves the
folder even then, and cannot loop (directories are remembered by device/inode).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator, Optional

from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.filters import is_excluded_dir, is_selected
from mavi_sync.hashing import sha256_file
from mavi_sync.ledger import Ledger
from mavi_sync.plan import plan_file


@dataclass(frozen=True)
class Found:
    path: Path
    folder: FolderConfig
    st: Optional[os.stat_result]  # None when the entry could not be read
    problem: str = ""


def walk_folder(folder: FolderConfig) -> Iterator[Found]:
    """Every candidate file under `folder` (filters applied), depth-first, sorted by name."""
    root = folder.path
    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    real_root = os.path.realpath(root)
    skip = {os.path.realpath(folder.archive_dir)} if folder.archive_dir else set()
    while stack:
        directory = stack.pop()
        try:
            st = os.stat(directory)
            if (st.st_dev, st.st_ino) in seen_dirs:
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield Found(directory, folder, None, f"cannot list directory ({exc.strerror})")
            continue
        subdirs: list[tuple[bool, Path]] = []
        for entry in entries:
            found = _classify(entry, folder, real_root, skip)
            if isinstance(found, Path):
                subdirs.append((entry.is_symlink(), found))
            elif found is not None:
                yield found
        if folder.recursive:
            # Real directories before links to them, so a directory is listed under its own name.
            subdirs.sort(key=lambda item: item[0])
            stack.extend(path for _, path in reversed(subdirs))


def _classify(entry: os.DirEntry[str], folder: FolderConfig, real_root: str,
              skip: set[str]) -> Path | Found | None:
    """A subdirectory to walk (Path), a candidate file (Found), or None to ignore."""
    path = Path(entry.path)
    try:
        is_link = entry.is_symlink()
        if is_link and not folder.follow_symlinks:
            return _skipped(path, folder, SYMLINK_NOT_FOLLOWED)
        if is_link and not _inside(os.path.realpath(path), real_root):
            return _skipped(path, folder, SYMLINK_OUTSIDE)  # never leave the folder, even when following links
        st = entry.stat(follow_symlinks=True)
    except OSError as exc:
        reason = SYMLINK_BROKEN if is_link_error(exc) else f"cannot read ({exc.strerror})"
        return _skipped(path, folder, reason)
    if stat.S_ISDIR(st.st_mode):
        if is_excluded_dir(entry.name) or os.path.realpath(path) in skip:
            return None
        return path
    rel = PurePosixPath(path.relative_to(folder.path).as_posix())
    if not is_selected(rel, folder):
        return None
    if not stat.S_ISREG(st.st_mode):
        return Found(path, folder, st, NOT_REGULAR)
    return Found(path, folder, st)


SYMLINK_NOT_FOLLOWED = "a symlink, not followed (the folder's follow_symlinks is off)"
SYMLINK_OUTSIDE = "a symlink to somewhere outside the folder (never followed)"
SYMLINK_BROKEN = "a broken or looping symlink"
NOT_REGULAR = "not a regular file (FIFO, socket or device): nothing to upload"


def _skipped(path: Path, folder: FolderConfig, reason: str) -> Optional[Found]:
    """A path the daemon will not upload, with why; None when the name filters leave it out anyway."""
    rel = PurePosixPath(path.relative_to(folder.path).as_posix())
    return Found(path, folder, None, reason) if is_selected(rel, folder) else None


def skip_reason(path: Path, folder: FolderConfig) -> Optional[str]:
    """Why a path an event pointed at will not be uploaded, or None when it is a regular
    file the daemon should consider (the same verdict the walk gives)."""
    try:
        lst = os.lstat(path)
    except OSError:
        return None  # gone again: nothing to say
    if stat.S_ISLNK(lst.st_mode):
        if not folder.follow_symlinks:
            return SYMLINK_NOT_FOLLOWED
        if not _inside(os.path.realpath(path), os.path.realpath(folder.path)):
            return SYMLINK_OUTSIDE
        try:
            st = os.stat(path)
        except OSError as exc:
            return SYMLINK_BROKEN if is_link_error(exc) else f"cannot read ({exc.strerror})"
        return None if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) else NOT_REGULAR
    return None if stat.S_ISREG(lst.st_mode) or stat.S_ISDIR(lst.st_mode) else NOT_REGULAR


def is_link_error(exc: OSError) -> bool:
    """Dangling or looping symlinks: they hold no data to upload."""
    return exc.errno in (errno.ENOENT, errno.ELOOP)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class ScanEntry:
    path: Path
    status: str  # "upload", "known", "duplicate", "refused", "skipped"
    target: str
    detail: str


def dry_run(config: Config, ledger: Optional[Ledger]) -> Iterator[ScanEntry]:
    """What a sync would do with every file in every folder; changes nothing."""
    for folder in config.folders:
        for found in walk_folder(folder):
            yield _dry_run_one(found, ledger, config.uploads.video_sha_tag)


def _dry_run_one(found: Found, ledger: Optional[Ledger], with_sha_tag: bool) -> ScanEntry:
    folder = found.folder
    if found.st is None or found.problem:
        return ScanEntry(found.path, "skipped", folder.target, found.problem)
    known = ledger.lookup_path(found.path) if ledger else None
    if known is not None and known.matches(found.st):
        record = ledger.get_by_id(known.file_id) if (ledger and known.file_id) else None
        state = record.state.value if record else "seen"
        return ScanEntry(found.path, "known", record.target if record else folder.target,
                         f"unchanged since last seen; ledger state {state}")
    try:
        sha = sha256_file(found.path)
    except OSError as exc:
        return ScanEntry(found.path, "skipped", folder.target, f"cannot read ({exc.strerror})")
    plan = plan_file(found.path, folder, sha256=sha, with_sha_tag=with_sha_tag)
    verdict = plan.chosen
    if not verdict.accepted:
        return ScanEntry(found.path, "refused", verdict.target, verdict.reason)
    existing = ledger.get(sha, verdict.target, folder.unique_id) if ledger else None
    if existing is not None:
        return ScanEntry(found.path, "duplicate", verdict.target,
                         f"same content already in the ledger ({existing.state.value})")
    how = " via signed URL" if verdict.method == "signed" else ""
    return ScanEntry(found.path, "upload", verdict.target,
                     f"{plan.info.kind.format if plan.info.kind else '?'}, taken "
                     f"{plan.capture.local:%Y-%m-%d %H:%M:%S} ({plan.capture.source}){how}")
