"""Moving a file the server holds: into the archive, or away. No ledger here (duties.py
records what was done); each function either finishes or raises OSError, leaving the
original where it was and nothing half-written in the archive.

An archive never overwrites anything. Across file systems the copy is written under a
hidden name, flushed to disk and checked before it takes its name and the original goes:
a copy cut short (a full disk, a stop) never passes for the clip.
"""

from __future__ import annotations

import errno
import filecmp
import os
import shutil
from contextlib import suppress
from pathlib import Path

PARTIAL = ".mavi-sync-partial"  # a copy not yet checked: `.NAME.mavi-sync-partial` beside its destination


def free_name(dest: Path, companions: tuple[str, ...] = ()) -> Path:
    """`dest`, or `name (1).ext`, `name (2).ext`…: the first such that neither it nor it with
    any of the `companions` suffixes (a caption sidecar) exists yet."""
    candidate, n = dest, 0
    while any(os.path.lexists(f"{candidate}{suffix}") for suffix in ("", *companions)):
        n += 1
        candidate = dest.with_name(f"{dest.stem} ({n}){dest.suffix}")
    return candidate


def check_writable(directory: Path) -> None:
    """Raise the OSError a removal from `directory` would meet (EROFS, EACCES), before
    anything is copied: a folder the daemon may not change is said so at once, and the
    archive is not handed a copy whose original cannot go."""
    if os.access(directory, os.W_OK | os.X_OK):
        return
    code = errno.EROFS if os.statvfs(directory).f_flag & os.ST_RDONLY else errno.EACCES
    raise OSError(code, os.strerror(code), str(directory))


def archive(src: Path, dest: Path) -> None:
    """Move `src` to `dest`. A `dest` holding src's bytes already (an earlier attempt cut off
    after linking or copying) counts as done; FileExistsError when it holds anything else."""
    check_writable(src.parent)
    _directory(dest.parent)
    if os.path.lexists(dest):
        if not _same(src, dest):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dest))
    else:
        try:
            os.link(src, dest)  # one file system: no copy, and it fails rather than overwrite
        except FileExistsError:
            raise
        except OSError:  # another file system, or one without hard links
            _copy(src, dest)
    os.unlink(src)


def remove(path: Path) -> None:
    check_writable(path.parent)
    os.unlink(path)


def move_text(src: Path, dest: Path) -> None:
    """Move a small file of ours (a caption sidecar) to `dest`, replacing what is there; one
    gone already (the user deleted it) is nothing to do."""
    try:
        data = src.read_bytes()
    except FileNotFoundError:
        return
    check_writable(src.parent)
    _directory(dest.parent)
    tmp = dest.with_name(f".{dest.name}{PARTIAL}")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
    with suppress(FileNotFoundError):
        os.unlink(src)


def _directory(path: Path) -> None:
    """Make the archive's directory; a file in its way is ENOTDIR (not "the name is taken")."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None


def _copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}{PARTIAL}")
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())  # on disk before the original goes
        shutil.copystat(src, tmp)
        if os.stat(tmp).st_size != os.stat(src).st_size:
            raise OSError(errno.EIO, "the copy came out short", str(dest))
        try:
            os.link(tmp, dest)  # takes the name only if nobody has
        except FileExistsError:
            raise
        except OSError:  # no hard links on the archive's file system (FAT, some FUSE)
            if os.path.lexists(dest):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dest)) from None
            os.rename(tmp, dest)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)


def _same(src: Path, dest: Path) -> bool:
    """Does `dest` hold exactly src's bytes (the same file, or a finished copy of it)?"""
    try:
        return os.path.samefile(src, dest) or filecmp.cmp(src, dest, shallow=False)
    except OSError:
        return False
