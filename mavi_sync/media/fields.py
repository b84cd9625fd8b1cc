"""Metadata + folder settings → the form fields each endpoint gets. Pure.

Only fields that have values are produced. Values are always within the API's
limits: tags are cut to the count and length the endpoint takes (with a note),
the camera model to 200 characters, and positions are real coordinates.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Optional

from mavi_sync.config.parse import folder_name_problem
from mavi_sync.config.schema import FolderConfig
from mavi_sync.media.capture import Capture
from mavi_sync.media.model import MediaInfo
from mavi_sync.media.rules import LIMITS
from mavi_sync.media.values import clean_text, valid_position

MAX_TAG_LEN = 100
MAX_CAMERA_MODEL = 200
SHA_TAG_PREFIX = "sha256:"


@dataclass(frozen=True)
class UploadFields:
    """Form fields for one target (for security: {"req": <the JSON request>})."""

    target: str
    form: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    server_folder: Optional[str] = None  # the memories.ai folder's name ([[folders]] server_folder)
    refusal: Optional[str] = None  # why the file cannot go (its server folder name is invalid)

    def as_json(self) -> dict[str, Any]:
        return dict(self.form)


def sha_tag(sha256: str) -> str:
    """The idempotency tag a video carries so an unknown outcome can be looked up."""
    return SHA_TAG_PREFIX + sha256


def _template_context(info: MediaInfo, rel_path: PurePath, folder: FolderConfig,
                      capture: Capture, target: str) -> dict[str, str]:
    parent = rel_path.parent
    return {
        "rel_dir": "" if str(parent) == "." else parent.as_posix(),
        "dir": parent.name,
        "folder": folder.name,
        "year": f"{capture.local.year:04d}",
        "month": f"{capture.local.month:02d}",
        "day": f"{capture.local.day:02d}",
        "yyyy": f"{capture.local.year:04d}",
        "mm": f"{capture.local.month:02d}",
        "dd": f"{capture.local.day:02d}",
        "camera_model": info.camera_model or folder.camera_model or "",
        "ext": rel_path.suffix.lower().lstrip("."),
        "media_type": info.family or "",
        "target": target,
    }


def build_tags(info: MediaInfo, rel_path: PurePath, folder: FolderConfig, capture: Capture,
               target: str, sha256: Optional[str], with_sha_tag: bool) -> tuple[list[str], list[str]]:
    """(tags, notes): folder tags, then rendered templates, then the file's own keywords,
    de-duplicated, each at most MAX_TAG_LEN, at most the target's count (sha tag first)."""
    context = _template_context(info, rel_path, folder, capture, target)
    rendered = [string.Formatter().vformat(t, (), context) for t in folder.tag_templates]
    candidates = list(folder.tags) + rendered + list(info.keywords)
    notes: list[str] = []
    tags: list[str] = []
    seen: set[str] = set()
    reserved = [sha_tag(sha256)] if (with_sha_tag and sha256 and target == "video") else []
    limit = LIMITS[target].max_tags - len(reserved)
    for raw in candidates:
        tag = clean_text(raw)
        if not tag or tag.lower() in seen:
            continue
        if len(tag) > MAX_TAG_LEN:
            notes.append(f"tag {tag[:30]!r}... is longer than {MAX_TAG_LEN} characters: not sent")
            continue
        seen.add(tag.lower())
        tags.append(tag)
    if len(tags) > limit:
        notes.append(f"{len(tags)} tags, the {target} endpoint takes {limit}: "
                     f"{len(tags) - limit} dropped ({', '.join(tags[limit:])[:80]})")
        tags = tags[:limit]
    return reserved + tags, notes


def _position(info: MediaInfo, folder: FolderConfig) -> Optional[tuple[float, float]]:
    return info.position or valid_position(folder.latitude, folder.longitude)


def _camera_model(info: MediaInfo, folder: FolderConfig, notes: list[str]) -> Optional[str]:
    model = info.camera_model or clean_text(folder.camera_model)
    if model and len(model) > MAX_CAMERA_MODEL:
        notes.append(f"camera model cut to {MAX_CAMERA_MODEL} characters")
        model = model[:MAX_CAMERA_MODEL]
    return model


def build_fields(info: MediaInfo, rel_path: PurePath, folder: FolderConfig, capture: Capture,
                 target: str, *, sha256: Optional[str] = None, with_sha_tag: bool = True) -> UploadFields:
    """The form fields `target` gets for this file."""
    if target == "asset":
        return UploadFields(target, {}, ("v2 asset uploads carry the file only; metadata stays in the ledger",))
    if target == "security":
        return UploadFields(target, {"req": security_request(folder)})
    notes: list[str] = []
    form: dict[str, Any] = {"unique_id": folder.unique_id,
                            "datetime_taken": capture.upload_value(folder.datetime_mode)}
    model = _camera_model(info, folder, notes)
    if model:
        form["camera_model"] = model
    position = _position(info, folder)
    if position:
        form["latitude"], form["longitude"] = f"{position[0]:.7f}", f"{position[1]:.7f}"
    tags, tag_notes = build_tags(info, rel_path, folder, capture, target, sha256, with_sha_tag)
    notes += tag_notes
    if tags:
        form["tags"] = tags
    if target != "video":
        return UploadFields(target, form, tuple(notes))
    form.update(_video_only(folder))
    if not folder.server_folder:
        return UploadFields(target, form, tuple(notes))
    name = string.Formatter().vformat(folder.server_folder, (), _template_context(info, rel_path, folder, capture,
                                                                                  target)).strip()
    problem = folder_name_problem(name)
    refusal = f"server_folder {folder.server_folder!r} gives {name[:40]!r}: {problem}" if problem else None
    return UploadFields(target, form, tuple(notes), server_folder=None if problem else name, refusal=refusal)


def _video_only(folder: FolderConfig) -> dict[str, Any]:
    extra: dict[str, Any] = {"retain_original_video": "true" if folder.retain_original_video else "false"}
    if folder.callback:
        extra["callback"] = folder.callback
    if folder.video_transcription_prompt:
        extra["video_transcription_prompt"] = folder.video_transcription_prompt
    if folder.folder_id is not None:
        extra["folder_id"] = str(folder.folder_id)
    return extra


def security_request(folder: FolderConfig) -> dict[str, Any]:
    """The JSON `req` part of a security upload."""
    sec = folder.security
    req: dict[str, Any] = {"user_prompt": sec.user_prompt, "system_prompt": sec.system_prompt,
                           "thinking": sec.thinking, "qa": sec.qa}
    if sec.callback:
        req["callback"] = sec.callback
    if sec.reasoning_effort:
        req["reasoning_effort"] = sec.reasoning_effort
    if sec.persons:
        req["persons"] = [{"name": p.name, "url": p.url} for p in sec.persons]
    return req
