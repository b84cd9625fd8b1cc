"""`mavi-sync scan --dry-run`: what a sync would do with every file in every folder,
found by the same walk the daemon uses; changes nothing."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from mavi_sync.commands.common import CONFIG_HELP, EXIT_OK, config_at, ledger_path, print_json
from mavi_sync.config.schema import Config
from mavi_sync.fleet import open_ledger
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.intake.scanner import Found, walk_folder
from mavi_sync.ledger.store import Ledger
from mavi_sync.media.pairs import skipped_half
from mavi_sync.pipeline.plan import live_photo, plan_file
from mavi_sync.readout.report import scan_summary


@dataclass(frozen=True)
class ScanEntry:
    path: Path
    status: str  # "upload", "known", "duplicate", "refused", "skipped"
    target: str
    detail: str


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("scan", help="list what a sync would upload where (nothing is uploaded)")
    p.add_argument("--dry-run", action="store_true", required=True,
                   help="required: the scan only reports (uploading is `mavi-sync sync`)")
    p.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_at(args.config)
    where = ledger_path(config)
    # Read the ledger only when there is one: a dry run must not create it.
    ledger = open_ledger(config) if where.exists() or config.fleet.database else None
    try:
        entries = list(dry_run(config, ledger))
    finally:
        if ledger:
            ledger.close()
    if args.json:
        rows: list[dict[str, Any]] = [{"path": str(e.path), "status": e.status, "target": e.target,
                                       "detail": e.detail} for e in entries]
        print_json(rows)
    else:
        for e in entries:
            print(f"{e.status:<10} {e.target:<8} {e.path}  {e.detail}")
        print(scan_summary(entries))
    return EXIT_OK


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
    pair = live_photo(plan)
    skipped = skipped_half(folder.live_photos, pair, found.path) if pair else None
    if skipped:
        return ScanEntry(found.path, "skipped", plan.chosen.target, skipped)
    verdict = plan.chosen
    if not verdict.accepted:
        return ScanEntry(found.path, "refused", verdict.target, verdict.reason)
    existing = ledger.get(sha, verdict.target, folder.unique_id) if ledger else None
    if existing is not None:
        return ScanEntry(found.path, "duplicate", verdict.target,
                         f"same content already in the ledger ({existing.state.value})")
    how = " via signed URL" if verdict.method == "signed" else ""
    how += {"jpeg": " as a JPEG", "mp4": " remuxed into MP4", "h264": " re-encoded as H.264",
            "clip": "; the motion photo's clip"}.get(verdict.convert or "", "")
    if plan.info.motion_size and verdict.convert != "clip":
        how += "; a motion photo: its still, and its clip as a video" if folder.live_photos == "both" else \
            "; a motion photo: its still"
    if pair is not None:
        other = pair.motion if found.path == pair.still else pair.still
        how += f"; Live Photo with {other.name} (tag {pair.tag})" if folder.live_photos == "both" else \
            f"; Live Photo with {other.name}"
    return ScanEntry(found.path, "upload", verdict.target,
                     f"{plan.info.kind.format if plan.info.kind else '?'}, taken "
                     f"{plan.capture.local:%Y-%m-%d %H:%M:%S} ({plan.capture.source}){how}")
