"""After the remote side confirmed a file: keep it, archive it, or delete it.

Only a path that still holds exactly what was uploaded (same size, mtime, inode and
device as when it was hashed) is touched; an archive never overwrites anything.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from mavi_sync.config.schema import Config
from mavi_sync.ledger import Ledger, PathRecord


@dataclass(frozen=True)
class Done:
    path: Path
    action: str  # "archived", "deleted", "kept", "skipped"
    detail: str = ""
    dest: Optional[Path] = None


def free_name(dest: Path) -> Path:
    """`dest`, or `name (1).ext`, `name (2).ext`… whichever does not exist yet."""
    candidate, n = dest, 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = dest.with_name(f"{dest.stem} ({n}){dest.suffix}")
    return candidate


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)  # fails if dest exists: never overwrites, even in a race
        os.unlink(src)
    except OSError:
        if dest.exists():
            raise
        shutil.copy2(src, dest)  # another file system: copy, check, then remove the original
        if dest.stat().st_size != src.stat().st_size:
            dest.unlink()
            raise OSError(f"copy of {src} to {dest} came out short")
        os.unlink(src)


def apply(config: Config, ledger: Ledger, file_id: int) -> list[Done]:
    """Run each of the file's paths' folder action; returns what was done per path."""
    done: list[Done] = []
    if not ledger.all_parts_confirmed(file_id):  # a motion photo's still, before its clip: later
        return done
    for raw in ledger.paths_of(file_id):
        path = Path(os.fsdecode(raw))
        folder = config.folder_for(path)
        record = ledger.lookup_path(raw)
        if folder is None or record is None or folder.after_upload == "keep":
            continue
        done.append(_one(path, record, folder.after_upload, folder.path, folder.archive_dir, ledger))
    return done


def _one(path: Path, record: PathRecord, action: str, root: Path, archive: Optional[Path], ledger: Ledger) -> Done:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        ledger.forget_path(path)
        return Done(path, "skipped", "no longer there")
    if not record.matches(st):
        return Done(path, "skipped", "changed since it was uploaded: left alone")
    try:
        if action == "delete":
            os.unlink(path)
            ledger.forget_path(path)
            return Done(path, "deleted")
        assert archive is not None  # config validation requires archive_dir with "archive"
        dest = free_name(archive / path.relative_to(root))
        _move(path, dest)
        ledger.forget_path(path)
        return Done(path, "archived", dest=dest)
    except OSError as exc:
        return Done(path, "skipped", f"cannot {action}: {exc.strerror or exc}")
