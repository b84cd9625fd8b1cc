"""`mavi-sync inspect FILE…`: each file's type, metadata and per-target upload fields, as an
upload would send them (a photo sent as a JPEG is converted for real, in a temporary
directory); nothing is uploaded."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Optional

from mavi_sync.commands.common import EXIT_OK, print_json
from mavi_sync.config import Config, FolderConfig, load_config
from mavi_sync.errors import ConversionError, MaviSyncError
from mavi_sync.media.model import Converted
from mavi_sync.media.prober import convert_here
from mavi_sync.media.rules import LIMITS
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.pipeline.plan import FilePlan, live_photo, plan_file
from mavi_sync.readout.report import inspect_json, inspect_text


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("inspect", help="show type, metadata and per-target upload fields of files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="media files to read (nothing is uploaded)")
    p.add_argument("--config", type=Path, metavar="PATH", help="use the settings of the folder holding each file")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else None
    with_sha = config.uploads.video_sha_tag if config else True
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:  # nothing to read: not a file that "would be refused" dated 1970
        raise MaviSyncError(f"not a file: {', '.join(missing)}", hint="Name files that exist (a folder: scan --dry-run).")
    plans = []
    for path in args.files:
        try:
            sha: Optional[str] = sha256_file(path)
        except OSError:
            sha = None
        plans.append(plan_file(path.resolve(), _folder_for(path, config), sha256=sha, with_sha_tag=with_sha))
    converted = [_trial_conversion(p) for p in plans]
    pairs = [live_photo(p) for p in plans]
    if args.json:
        print_json([inspect_json(p, c, pair) for p, c, pair in zip(plans, converted, pairs)])
    else:
        print("\n\n".join(inspect_text(p, c, pair) for p, c, pair in zip(plans, converted, pairs)))
    return EXIT_OK


def _folder_for(path: Path, config: Optional[Config]) -> FolderConfig:
    """The configured folder holding `path`, or a folder of defaults at its parent."""
    folder = config.folder_for(path.resolve()) if config else None
    return folder or FolderConfig(path=path.resolve().parent)


def _trial_conversion(plan: FilePlan) -> "Converted | str | None":
    """For a photo sent as a JPEG: make that JPEG in a temporary directory, as an upload
    would, to show its size and whether the quality or size had to be lowered."""
    if not any(tp.verdict.convert == "jpeg" for tp in plan.targets.values()):
        return None
    with tempfile.TemporaryDirectory(prefix="mavi-inspect-") as tmp:
        try:
            return convert_here(str(plan.path), os.path.join(tmp, "out.jpg"), "jpeg",
                                {"quality": plan.folder.jpeg_quality, "max_bytes": LIMITS["image"].max_bytes})
        except ConversionError as exc:
            return str(exc)
