"""What a stat says about whether a file is still changing: its signature and the time of
its last change. Pure."""

from __future__ import annotations

import os

Signature = tuple[int, int, int, int]  # (size, mtime_ns, ctime_ns, inode)


def signature(st: os.stat_result) -> Signature:
    """Any write, truncation, `touch`, `chmod` or rename over the path changes it: the ctime
    cannot be set back by any tool (unlike the mtime: `cp -p`, `rsync -t`), and a file
    renamed over another is a new inode even at the same size and mtime."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def last_change_s(sig: Signature) -> float:
    """Wall time of the file's last change, data or metadata, by its own timestamps."""
    return max(sig[1], sig[2]) / 1e9
