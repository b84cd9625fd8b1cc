"""Walking watched folders, and comparing what is there with the ledger.

The walk never follows a symlink unless the folder says so, never leaves the
folder even then, and cannot loop (directories are remembered by device/inode).
"""

from __future__ import annotations

import errno
import os
import stat
from operator import attrgetter, itemgetter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from mavi_sync.config.schema import FolderConfig
from mavi_sync.intake.filters import dir_rule, name_filter


@dataclass(frozen=True)
class Found:
    path: Path
    folder: FolderConfig
    st: Optional[os.stat_result]  # None when the entry could not be read
    problem: str = ""


@dataclass(frozen=True)
class Listing:
    """One directory's candidates, as the walk lists them: `(name, stat, problem)` with
    problem "" for a regular file to consider, in no particular order (sort what you act
    on: most of a restart's files need nothing). Per directory, so that the caller can ask
    the ledger about a whole directory at once, not about each of 100,000 files."""

    directory: str
    entries: list[tuple[str, Optional[os.stat_result], str]]
    error: str = ""  # the directory itself could not be listed
    stat: Optional[os.stat_result] = None  # the directory's own, taken before its entries were listed


# A directory changed this recently may change again within the same clock tick of the
# file system's timestamps, unseen by its ctime: it gets no mark (as git's "racy" entries).
RACY_S = 2.0
_INT64 = 1 << 64
_STAT, _PROBLEM = itemgetter(1), itemgetter(2)
_COMPARED = attrgetter("st_size", "st_mtime_ns", "st_ino", "st_dev")  # what the ledger compares


def mark(listing: Listing, now: float) -> Optional[int]:
    """A fingerprint of the listing, or None when it cannot vouch for it (an entry with a
    problem, or a directory changed in the last RACY_S).

    Any entry added, removed or renamed changes the directory's ctime (which, unlike its
    mtime, no tool can set back); a file changed in place changes its own size or mtime.
    So an equal mark means the same names with the same stats: a restart compares one
    number per directory instead of reading 500 ledger rows. Hashes of int tuples are the
    same in every process (no PYTHONHASHSEED); Python's own tuple hash keeps it cheap."""
    st = listing.stat
    if st is None or listing.error or now - st.st_ctime < RACY_S:
        return None
    entries = listing.entries
    if any(map(_PROBLEM, entries)):
        return None
    total = hash((st.st_dev, st.st_ino, st.st_ctime_ns, len(entries)))
    total += sum(map(hash, map(_COMPARED, map(_STAT, entries))))  # map chains: no Python-level loop
    total %= _INT64
    return total - _INT64 if total >= 1 << 63 else total  # as SQLite stores it: a signed 64-bit int


def walk_folder(folder: FolderConfig, top: Optional[Path] = None) -> Iterator[Found]:
    """Every candidate file under `folder` (filters applied), depth-first, sorted by name."""
    for listing in walk_dirs(folder, top):
        if listing.error:
            yield Found(Path(listing.directory), folder, None, listing.error)
        for name, st, problem in sorted(listing.entries, key=itemgetter(0)):
            yield Found(Path(listing.directory, name), folder, st, problem)


def walk_dirs(folder: FolderConfig, top: Optional[Path] = None) -> Iterator[Listing]:
    """The folder's directories (from `top`, a directory inside it, when given), depth-first,
    subdirectories in name order. This is the restart's hot loop: strings, not Path objects,
    and the name filters before any stat, so a known file costs one fstatat and no more."""
    root = str(folder.path)
    walk = _Walk(folder, os.path.realpath(root))
    start = str(top) if top is not None else root
    stack = [(start, _relative(start, root))]
    while stack:
        directory, rel = stack.pop()
        try:
            # Listed through a directory descriptor, so each entry's stat is an fstatat on
            # its bare name (as find does), not a lookup of every component of its path.
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            yield Listing(directory, [], f"cannot list directory ({exc.strerror})")
            continue
        try:
            listing, subdirs = walk.read(fd, directory, rel)
        except OSError as exc:
            listing, subdirs = Listing(directory, [], f"cannot list directory ({exc.strerror})"), []
        finally:
            os.close(fd)
        if listing is None:
            continue  # a directory already walked (a loop, or a second link to it)
        yield listing
        if folder.recursive:
            stack.extend(reversed(subdirs))


class _Walk:
    """What one walk holds: the folder's compiled filters and the directories already listed."""

    def __init__(self, folder: FolderConfig, real_root: str) -> None:
        self.folder = folder
        self.real_root = real_root
        self.pruned = dir_rule(folder).pruned
        names = name_filter(folder)
        self.selects = names.selects
        self.plain = names.plain
        self.seen_dirs: set[tuple[int, int]] = set()

    def read(self, fd: int, directory: str, rel: str) -> tuple[Optional[Listing], list[tuple[str, str]]]:
        """(this directory's listing, its subdirectories as (path, rel) in walk order);
        (None, []) for a directory already listed."""
        st = os.fstat(fd)  # before the entries: a change while listing makes the next mark differ
        if (st.st_dev, st.st_ino) in self.seen_dirs:
            return None, []
        self.seen_dirs.add((st.st_dev, st.st_ino))
        regular: list[os.DirEntry[str]] = []
        others: list[os.DirEntry[str]] = []
        with os.scandir(fd) as it:
            for entry in it:  # d_type says which are plain files: no syscall
                (regular if entry.is_file(follow_symlinks=False) else others).append(entry)
        listed = self._files(regular, rel)
        real_dirs: list[tuple[str, str]] = []
        linked_dirs: list[tuple[str, str]] = []  # after real ones: a directory is listed under its own name
        for entry in others:
            self._other(entry, directory, rel, listed, real_dirs, linked_dirs)
        real_dirs.sort()
        linked_dirs.sort()
        return Listing(directory, listed, stat=st), real_dirs + linked_dirs

    def _files(self, regular: list[os.DirEntry[str]], rel: str) -> list[tuple[str, Optional[os.stat_result], str]]:
        """The plain files that pass the filters, stat'ed. The filters come before the stat,
        and the common case (default filters) runs as comprehensions, not a Python loop."""
        plain = self.plain
        if plain is not None:
            suffixes, prefixes = plain
            chosen = [e for e in regular if not (e.name.endswith(suffixes) or e.name.startswith(prefixes))]
        else:
            chosen = [e for e in regular if self.selects(rel, e.name)]
        try:
            listed = [(e.name, e.stat(follow_symlinks=False), "") for e in chosen]
            if all(stat.S_ISREG(st.st_mode) for _, st, _ in listed):
                return listed
        except OSError:
            pass
        # One vanished, unreadable, or replaced by a FIFO since it was listed: one by one
        # (each entry keeps the stat it already made).
        return [self._stat(e) for e in chosen]

    @staticmethod
    def _stat(entry: os.DirEntry[str]) -> tuple[str, Optional[os.stat_result], str]:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            return (entry.name, None, f"cannot read ({exc.strerror})")
        return (entry.name, st, "" if stat.S_ISREG(st.st_mode) else NOT_REGULAR)

    def _other(self, entry: os.DirEntry[str], directory: str, rel: str,
               listed: list[tuple[str, Optional[os.stat_result], str]],
               real_dirs: list[tuple[str, str]], linked_dirs: list[tuple[str, str]]) -> None:
        """A directory, symlink or special file: sorted into the lists it belongs to."""
        name = entry.name
        sub_rel = f"{rel}/{name}" if rel else name
        try:
            is_link = entry.is_symlink()
            is_dir = not is_link and entry.is_dir(follow_symlinks=False)
        except OSError:
            return  # gone since it was listed
        if is_link:
            linked = self._link(entry, os.path.join(directory, name))
            if isinstance(linked, str):
                linked_dirs.append((linked, sub_rel))
            elif linked is not None and self.selects(rel, name):
                listed.append((name, *linked))
        elif is_dir:
            path = os.path.join(directory, name)
            if not self.pruned(path):
                real_dirs.append((path, sub_rel))
        elif self.selects(rel, name):
            listed.append(self._stat(entry))

    def _link(self, entry: os.DirEntry[str], path: str) -> str | tuple[Optional[os.stat_result], str] | None:
        """A symlink at `path`: the directory to walk (str), a file as (stat, problem), or None."""
        if not self.folder.follow_symlinks:
            return (None, SYMLINK_NOT_FOLLOWED)
        real = os.path.realpath(path)
        if not _inside(real, self.real_root):
            return (None, SYMLINK_OUTSIDE)  # never leave the folder, even when following links
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as exc:
            return (None, SYMLINK_BROKEN if is_link_error(exc) else f"cannot read ({exc.strerror})")
        if stat.S_ISDIR(st.st_mode):
            return None if self.pruned(path) else path
        return (st, "" if stat.S_ISREG(st.st_mode) else NOT_REGULAR)


def _relative(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return "" if rel == "." else rel.replace(os.sep, "/")


SYMLINK_NOT_FOLLOWED = "a symlink, not followed (the folder's follow_symlinks is off)"
SYMLINK_OUTSIDE = "a symlink to somewhere outside the folder (never followed)"
SYMLINK_BROKEN = "a broken or looping symlink"
NOT_REGULAR = "not a regular file (FIFO, socket or device): nothing to upload"


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
