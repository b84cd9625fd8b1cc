"""Checks of a parsed config against the file system: folders exist, don't overlap,
archives live outside every watched tree. Each failure is a `Problem`."""

from __future__ import annotations

import os
from pathlib import Path

from mavi_sync.config.schema import Config, FolderConfig
from mavi_sync.errors import Problem


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _covers(root: Path, recursive: bool, path: Path) -> bool:
    """True when files directly in `path` would be picked up by a folder watching `root`."""
    return _inside(path, root) if recursive else path == root


def filesystem_problems(config: Config) -> list[Problem]:
    """Every problem found by looking at the disk; an empty list means all is well."""
    problems: list[Problem] = []
    resolved = [f.path.resolve() if f.path.exists() else f.path for f in config.folders]
    for i, folder in enumerate(config.folders):
        key = f"folders[{i}]"
        if not folder.path.exists():
            problems.append(Problem(f"{key}.path", str(folder.path), "an existing directory (not found)"))
        elif not folder.path.is_dir():
            problems.append(Problem(f"{key}.path", str(folder.path), "a directory (this is a file)"))
        elif not os.access(folder.path, os.R_OK | os.X_OK):
            problems.append(Problem(f"{key}.path", str(folder.path), "a directory this user can read"))
        for j in range(i):
            if _overlap(config.folders[j], resolved[j], folder, resolved[i]):
                problems.append(Problem(
                    f"{key}.path", str(folder.path),
                    f"a folder that does not overlap folders[{j}] ({config.folders[j].path}); "
                    "one file must belong to exactly one folder"))
        problems.extend(_archive_problems(config, key, folder, resolved))
    return problems


def _overlap(a: FolderConfig, a_path: Path, b: FolderConfig, b_path: Path) -> bool:
    return _covers(a_path, a.recursive, b_path) or _covers(b_path, b.recursive, a_path)


def _archive_problems(config: Config, key: str, folder: FolderConfig, resolved: list[Path]) -> list[Problem]:
    if folder.after_upload != "archive" or folder.archive_dir is None:
        return []
    archive = folder.archive_dir.resolve() if folder.archive_dir.exists() else folder.archive_dir
    problems = []
    for j, other in enumerate(config.folders):
        if _covers(resolved[j], other.recursive, archive):
            problems.append(Problem(
                f"{key}.archive_dir", str(folder.archive_dir),
                f"a directory outside every watched folder (it is inside folders[{j}], {other.path}); "
                "archived files would be picked up again"))
    if archive.exists() and not archive.is_dir():
        problems.append(Problem(f"{key}.archive_dir", str(folder.archive_dir), "a directory (this is a file)"))
    return problems
