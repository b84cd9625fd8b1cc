"""Which names in a watched folder are candidates: temp names, excluded directories,
include/exclude globs. Pure functions of names and config."""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

from mavi_sync.config.schema import FolderConfig

# NAS and desktop litter that is never media to upload, and never worth watching.
EXCLUDED_DIRS = ("@eaDir", "#recycle", "#snapshot", ".Trash*", "$RECYCLE.BIN", "lost+found",
                 "System Volume Information", ".@__thumb")


def is_temp_name(name: str, patterns: tuple[str, ...]) -> bool:
    """True for names still being written (`*.part`, `~*`, dot-files, ...)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def is_excluded_dir(name: str) -> bool:
    """True for directories never walked or watched (hidden ones, NAS metadata, trash)."""
    return name.startswith(".") or any(fnmatch.fnmatchcase(name, p) for p in EXCLUDED_DIRS)


def _glob_match(rel: PurePosixPath, pattern: str) -> bool:
    # A pattern without '/' matches the file name at any depth; with '/' the whole relative path.
    target = rel.as_posix() if "/" in pattern else rel.name
    return fnmatch.fnmatch(target, pattern)


def is_selected(rel: PurePosixPath, folder: FolderConfig) -> bool:
    """True when `rel` (relative to the folder) passes the folder's name filters."""
    if is_temp_name(rel.name, folder.temp_patterns):
        return False
    if not any(_glob_match(rel, p) for p in folder.include):
        return False
    return not any(_glob_match(rel, p) for p in folder.exclude)
