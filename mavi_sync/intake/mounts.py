"""Which file system a folder lives on: network mounts get polling, since inotify does not
see changes made by other machines on NFS, SMB/CIFS or FUSE (sshfs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

NETWORK_TYPES = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre",
                           "gpfs", "ncpfs", "davfs", "sshfs", "fuse.sshfs", "fuse.rclone", "fuse.gcsfuse"})


def _unescape(field: str) -> str:
    # /proc/self/mounts escapes space, tab, newline and backslash as octal.
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def parse_mounts(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(mount point, fs type) pairs from /proc/self/mounts lines. Pure."""
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3:
            out.append((_unescape(fields[1]), fields[2]))
    return out


def fs_type(path: Path, mounts: list[tuple[str, str]]) -> str:
    """The type of the file system holding `path`: the longest mount point that contains it. Pure."""
    target = os.path.normpath(str(path))
    best, kind = "", "unknown"
    for point, fstype in mounts:
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fstype
    return kind


# Local file systems whose directories keep the Unix link count: 2 plus one per
# subdirectory, so a directory with st_nlink == 2 has none and need not be listed to find
# them (find's "leaf optimisation"). btrfs always says 1 and NFS, CIFS, FUSE or /proc may
# say anything, so only these are trusted; gnulib's fts keeps a similar list.
COUNTS_SUBDIRS = frozenset({"ext2", "ext3", "ext4", "xfs", "tmpfs"})


def counts_subdirs(kind: str) -> bool:
    return kind in COUNTS_SUBDIRS


def is_network(kind: str) -> bool:
    return kind in NETWORK_TYPES or kind.startswith("fuse.") and kind != "fuse.portal"


def read_mounts() -> list[tuple[str, str]]:
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            return parse_mounts(fh)
    except OSError:
        return []
