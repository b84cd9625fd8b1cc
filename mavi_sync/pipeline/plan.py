"""For one file: what it is, when it was taken, which target takes it, and with which fields.

This is what `inspect` prints and what the uploader will send; it composes the
pure media core (capture, rules, fields) around one probe.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Mapping, Optional

from mavi_sync.api.model import UploadJob
from mavi_sync.config.schema import TARGETS, FolderConfig
from mavi_sync.media.capture import Capture, resolve_capture
from mavi_sync.media.fields import UploadFields, build_fields, sha_tag
from mavi_sync.media.model import MediaInfo
from mavi_sync.media.pairs import Half, Pair, find_pair, half
from mavi_sync.media.prober import Prober, probe_here
from mavi_sync.media.rules import Verdict, check, choose_target

MB = 1000 * 1000


@dataclass(frozen=True)
class TargetPlan:
    verdict: Verdict
    fields: Optional[UploadFields]  # None when refused
    filename: str  # the name sent in the multipart part: the real extension for the content
    mime: str


@dataclass(frozen=True)
class FilePlan:
    path: Path
    rel_path: PurePath
    folder: FolderConfig
    info: MediaInfo
    capture: Capture
    chosen: Verdict  # the folder's target (auto resolved) and whether it accepts the file
    targets: dict[str, TargetPlan]
    sha256: Optional[str]

    @property
    def accepted(self) -> bool:
        return self.chosen.accepted


def upload_filename(path: PurePath, info: MediaInfo) -> str:
    """`clip.MTS` stays, but a JPEG named `x.heic` is sent as `x.jpg`: servers check extensions.
    A name that is not valid UTF-8 (an old camera's Latin-1 `café.jpg`) is sent with U+FFFD
    for the bytes that are not: a multipart header must be text, and the local name is kept."""
    name = path.name if info.kind is None or path.suffix.lower() == info.kind.ext else path.stem + info.kind.ext
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def plan_file(path: Path, folder: FolderConfig, *, sha256: Optional[str] = None,
              with_sha_tag: bool = True, info: Optional[MediaInfo] = None) -> FilePlan:
    """Probe (unless `info` is given) and plan `path` for every target."""
    info = info or probe_here(path)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = 0.0
    rel = _relative(path, folder.path)
    capture = resolve_capture(info.taken, path.name, mtime, folder.timezone)
    max_bytes = int(folder.max_size_mb * MB) if folder.max_size_mb else None
    targets = {}
    clip = folder.live_photos == "video"  # a motion photo's clip instead of its still
    for target in TARGETS:
        verdict = check(info, target, max_bytes, folder.to_jpeg, folder.transcode, clip)
        fields = build_fields(info, rel, folder, capture, target, sha256=sha256,
                              with_sha_tag=with_sha_tag) if verdict.accepted else None
        if fields is not None and fields.refusal is not None:  # its server folder cannot be named
            verdict, fields = dataclasses.replace(verdict, accepted=False, reasons=(fields.refusal,)), None
        if verdict.convert == "jpeg":
            targets[target] = TargetPlan(verdict, fields, _renamed(path, ".jpg"), "image/jpeg")
        elif verdict.convert in ("mp4", "h264", "clip"):
            targets[target] = TargetPlan(verdict, fields, _renamed(path, ".mp4"), "video/mp4")
        else:
            targets[target] = TargetPlan(verdict, fields, upload_filename(path, info),
                                         info.kind.mime if info.kind else "application/octet-stream")
    chosen = choose_target(info, folder.target, max_bytes, folder.to_jpeg, folder.transcode, clip)
    if chosen.accepted and not targets[chosen.target].verdict.accepted:
        chosen = targets[chosen.target].verdict
    return FilePlan(path, rel, folder, info, capture, chosen, targets, sha256)


def live_photo(plan: FilePlan, probe: Prober = probe_here) -> Optional[Pair]:
    """The Live Photo `plan`'s file is one half of, if its other half lies beside it and was
    taken with it (media/pairs.py); the other half is probed with `probe`."""
    if half(plan.path) is None:
        return None

    def read(other: Path) -> Half:
        try:
            st = os.stat(other)
        except OSError:
            return Half(None, None)
        return _half(probe, os.fspath(other), st.st_size, st.st_mtime_ns, plan.folder.timezone)

    return find_pair(plan.path, Half(plan.capture.instant, plan.info.make, plan.info.content_id), read)


@functools.lru_cache(maxsize=4096)
def _half(probe: Prober, path: str, size: int, mtime_ns: int, zone: Optional[str]) -> Half:
    """What pairing needs of a file, probed once per version of it (size and mtime in the key):
    a renamed Live Photo's still looks at every clip beside it (media/pairs.py)."""
    info = probe(path)
    if info.refusal is not None:
        return Half(None, None)
    return Half(resolve_capture(info.taken, os.path.basename(path), mtime_ns / 1e9, zone).instant, info.make,
                info.content_id)


def with_pair_tag(plan: FilePlan, pair: Pair, with_sha_tag: bool) -> FilePlan:
    """The plan again, its fields carrying the pair's tag (live_photos = "both")."""
    folder = dataclasses.replace(plan.folder, tags=(*plan.folder.tags, pair.tag))
    return plan_file(plan.path, folder, sha256=plan.sha256, with_sha_tag=with_sha_tag, info=plan.info)


def _renamed(path: PurePath, ext: str) -> str:
    """`IMG_0001.HEIC` is sent as `IMG_0001.jpg`, `00001.MTS` as `00001.mp4`: the bytes are
    made from it."""
    return upload_filename(path.with_suffix(ext), _NO_KIND)


_NO_KIND = MediaInfo(path="", size=0)


def _relative(path: Path, root: Path) -> PurePath:
    try:
        return path.relative_to(root)
    except ValueError:
        return PurePath(path.name)


def metadata_record(plan: FilePlan) -> dict[str, Any]:
    """The extracted metadata as the ledger keeps it (JSON-safe)."""
    info = plan.info
    return {
        "format": info.kind.format if info.kind else None,
        "mime": info.kind.mime if info.kind else None,
        "camera_model": info.camera_model,
        "position": list(info.position) if info.position else None,
        "capture_local": plan.capture.local.isoformat(),
        "capture_source": plan.capture.source,
        "capture_offset_from_file": plan.capture.offset_from_file,
        "width": info.width, "height": info.height, "orientation": info.orientation,
        "duration_s": info.duration_s, "video_codec": info.video_codec, "audio_codec": info.audio_codec,
        "keywords": list(info.keywords),
        "motion_size": info.motion_size,
    }


def job_for(plan: FilePlan, st: os.stat_result, *, target: Optional[str] = None,
            maybe_sent: bool = False, send: Optional[Path] = None) -> UploadJob:
    """What the client sends for this plan: the chosen target unless `target` is given;
    `send` (with `st` its stat) when the bytes sent were made from the file (a JPEG).
    Raises ValueError when that target refuses the file or the plan has no hash."""
    target = target or plan.chosen.target
    tp = plan.targets[target]
    if not tp.verdict.accepted or tp.fields is None:
        raise ValueError(f"{plan.path}: {target} refuses it: {tp.verdict.reason}")
    if plan.sha256 is None:
        raise ValueError(f"{plan.path}: no content hash")
    return UploadJob(path=send or plan.path, target=target, filename=tp.filename, mime=tp.mime, size=st.st_size,
                     mtime_ns=st.st_mtime_ns, sha256=plan.sha256, namespace=plan.folder.unique_id,
                     form=tp.fields.form, method=tp.verdict.method, security_mode=plan.folder.security.mode,
                     maybe_sent=maybe_sent, lookup_tag=_lookup_tag(target, plan.sha256, tp.fields.form),
                     server_folder=tp.fields.server_folder)


def _lookup_tag(target: str, sha256: str, form: Mapping[str, Any]) -> Optional[str]:
    """The video's `sha256:` tag when it carries one (video_sha_tag), else None."""
    tag = sha_tag(sha256)
    return tag if target == "video" and tag in (form.get("tags") or ()) else None
