"""Which names in a watched folder are candidates: temp names, the caption sidecars
mavi-sync writes itself, excluded directories, include/exclude globs. Pure functions of
names and config; the walk (scanner.py) and the watcher's events (watcher.py) both ask them."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Optional

from mavi_sync.captions.store import SIDECAR_SUFFIX
from mavi_sync.config.schema import FolderConfig

# Names never taken for media in any folder, whatever its include globs say: the caption
# files written beside a clip or into a results folder (captions.py). Taken for a clip, each
# was "unfinished" every settle interval for incomplete_grace_s, then refused.
NEVER_MEDIA = ("*" + SIDECAR_SUFFIX,)

# NAS and desktop litter that is never media to upload, and never worth watching.
EXCLUDED_DIRS = ("@eaDir", "#recycle", "#snapshot", ".Trash*", "$RECYCLE.BIN", "lost+found",
                 "System Volume Information", ".@__thumb")


def is_temp_name(name: str, patterns: tuple[str, ...]) -> bool:
    """True for names still being written (`*.part`, `~*`, dot-files, ...)."""
    return globs(tuple(patterns)).match(name)


def is_excluded_dir(name: str) -> bool:
    """True for directories never walked or watched (hidden ones, NAS metadata, trash)."""
    return _EXCLUDED.match(name)


_WILD = frozenset("*?[")


@dataclass(frozen=True)
class GlobSet:
    """Globs matched as fnmatch would (case-sensitive, `*` crosses `/`), with the common
    shapes as plain string tests: `*.ext` is endswith, `~*` startswith, a name without
    wildcards equality. The walk asks this of every name it lists; a regex of alternatives
    each starting with `.*` costs several times more per name."""

    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    exact: frozenset[str] = frozenset()
    regex: Optional["re.Pattern[str]"] = None

    @property
    def empty(self) -> bool:
        return not (self.suffixes or self.prefixes or self.exact or self.regex)

    def match(self, text: str) -> bool:
        return (text.endswith(self.suffixes) or text.startswith(self.prefixes) or text in self.exact
                or (self.regex is not None and self.regex.match(text) is not None))


@lru_cache(maxsize=256)
def globs(patterns: tuple[str, ...]) -> GlobSet:
    suffixes, prefixes, exact, rest = [], [], [], []
    for p in patterns:
        if p[:1] == "*" and not _WILD & set(p[1:]):
            suffixes.append(p[1:])
        elif p[-1:] == "*" and not _WILD & set(p[:-1]):
            prefixes.append(p[:-1])
        elif not _WILD & set(p):
            exact.append(p)
        else:
            rest.append(p)
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in rest)) if rest else None
    return GlobSet(tuple(suffixes), tuple(prefixes), frozenset(exact), regex)


_EXCLUDED = globs((".*", *EXCLUDED_DIRS))


@dataclass(frozen=True)
class NameFilter:
    """A folder's name filters, compiled once: the walk asks them of every file it lists."""

    temp: GlobSet  # temp names (ignored until renamed) and NEVER_MEDIA
    include_names: GlobSet  # patterns without '/': the file name at any depth
    include_paths: GlobSet  # patterns with '/': the path relative to the folder
    include_all: bool
    exclude_names: GlobSet
    exclude_paths: GlobSet

    @property
    def plain(self) -> Optional[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(suffixes, prefixes) when these alone decide (include everything, exclude nothing,
        temp names by ending and beginning only, as the defaults are); else None."""
        temp = self.temp
        if not self.include_all or not self.exclude_names.empty or not self.exclude_paths.empty \
                or temp.exact or temp.regex is not None:
            return None
        return temp.suffixes, temp.prefixes

    def selects(self, rel_dir: str, name: str) -> bool:
        """Does `name`, in `rel_dir` ("" at the top, "a/b" below), pass the filters?"""
        if self.temp.match(name):
            return False
        rel = None
        if not self.include_all:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not (self.include_names.match(name) or self.include_paths.match(rel)):
                return False
        if self.exclude_names.empty and self.exclude_paths.empty:
            return True
        rel = rel or (f"{rel_dir}/{name}" if rel_dir else name)
        return not (self.exclude_names.match(name) or self.exclude_paths.match(rel))


@lru_cache(maxsize=64)
def _name_filter(temp: tuple[str, ...], include: tuple[str, ...], exclude: tuple[str, ...]) -> NameFilter:
    return NameFilter(
        temp=globs((*temp, *NEVER_MEDIA)),
        include_names=globs(tuple(p for p in include if "/" not in p)),
        include_paths=globs(tuple(p for p in include if "/" in p)),
        include_all="*" in include,
        exclude_names=globs(tuple(p for p in exclude if "/" not in p)),
        exclude_paths=globs(tuple(p for p in exclude if "/" in p)))


def name_filter(folder: FolderConfig) -> NameFilter:
    return _name_filter(tuple(folder.temp_patterns), tuple(folder.include), tuple(folder.exclude))


def is_selected(rel: PurePosixPath, folder: FolderConfig) -> bool:
    """True when `rel` (relative to the folder) passes the folder's name filters."""
    parent = rel.parent.as_posix()
    return name_filter(folder).selects("" if parent == "." else parent, rel.name)


class DirRule:
    """The one answer to "is this directory never walked nor watched?" for a folder: an
    excluded name (hidden, NAS metadata, trash) anywhere below the folder's root, or the
    archive directory or anything inside it, also when reached through a symlink. The walk,
    the watch set-up and the event handler all ask it, so they cannot disagree."""

    def __init__(self, root: str, archive: Optional[str]) -> None:
        self.root = root.rstrip(os.sep) or os.sep
        self.archive = archive.rstrip(os.sep) if archive else None
        self._archive_real = os.path.realpath(self.archive) if self.archive else None

    def pruned(self, directory: str) -> bool:
        """True for `directory` (an absolute path under the root, or the root itself)."""
        if self.archive is not None and (
                _under(directory, self.archive)
                or _under(os.path.realpath(directory), self._archive_real or self.archive)):
            return True
        if directory == self.root:
            return False
        rel = directory[len(self.root) + 1:] if directory.startswith(self.root + os.sep) \
            else os.path.relpath(directory, self.root)
        return any(is_excluded_dir(part) for part in rel.split(os.sep))


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + os.sep)


@lru_cache(maxsize=64)
def _dir_rule(root: str, archive: Optional[str]) -> DirRule:
    return DirRule(root, archive)


def dir_rule(folder: FolderConfig) -> DirRule:
    """The folder's DirRule (cached: the archive's real path is looked up once)."""
    return _dir_rule(os.fsdecode(folder.path), os.fsdecode(folder.archive_dir) if folder.archive_dir else None)
