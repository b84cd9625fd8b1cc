"""The emulator's checks of what a client sends, as documented (../shared/api). Pure.

Each check returns None when the request is acceptable, else a Refusal carrying the
answer the real service gives: a v1 business code, or a v2 HTTP status.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any, Optional
from urllib.parse import urlparse

MB = 1000 * 1000
GB = 1000 * MB
LIMIT_MESSAGE = "Request has exceeded the limit."


@dataclass(frozen=True)
class Limits:
    video_bytes: int = 3 * GB
    image_bytes: int = 20 * MB
    image_batch: int = 20
    security_bytes: int = 8 * GB
    asset_direct_bytes: int = 500 * MB
    asset_signed_bytes: int = 5 * GB
    video_tags: int = 20
    image_tags: int = 50
    persons: int = 5


VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp")
ASSET_EXTENSIONS = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".flv", ".wmv", ".mpeg", ".mpg",
                    ".mp3", ".wav", ".aac", ".flac", ".ogg", ".m4a",
                    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_TAG_INDEX = re.compile(r"tags\[(\d+)\]")


@dataclass(frozen=True)
class Refusal:
    code: str  # v1 business code ("0001", "0003") or v2 HTTP status as text ("400", "415")
    message: str


@dataclass(frozen=True)
class Upload:
    """One file part as received."""

    field: str
    filename: str
    content_type: str
    size: int


def tags_of(fields: dict[str, list[str]]) -> list[str]:
    """Tags sent as `tags` repeated (the Python examples) or `tags[0]`, `tags[1]`… (curl)."""
    indexed = sorted(((int(m.group(1)), v[0]) for k, v in fields.items() if (m := _TAG_INDEX.fullmatch(k))))
    return list(fields.get("tags", [])) + [v for _, v in indexed]


def _one(fields: dict[str, list[str]], name: str) -> Optional[str]:
    values = fields.get(name)
    return values[-1] if values else None


def _float_in(value: Optional[str], low: float, high: float) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return low <= number <= high


def _is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def metadata_refusal(fields: dict[str, list[str]], max_tags: int) -> Optional[Refusal]:
    """Checks shared by the v1 video and image uploads."""
    taken = _one(fields, "datetime_taken")
    if taken is not None:
        try:
            ok = bool(DATETIME.fullmatch(taken)) and bool(datetime.strptime(taken, "%Y-%m-%d %H:%M:%S"))
        except ValueError:
            ok = False
        if not ok:
            return Refusal("0003", f"datetime_taken {taken!r} is not yyyy-MM-dd HH:mm:ss")
    model = _one(fields, "camera_model")
    if model is not None and len(model) > 200:
        return Refusal("0003", "camera_model is longer than 200 characters")
    lat, lon = _one(fields, "latitude"), _one(fields, "longitude")
    if lat is not None and not _float_in(lat, -90, 90):
        return Refusal("0003", f"latitude {lat!r} is not a decimal between -90 and 90")
    if lon is not None and not _float_in(lon, -180, 180):
        return Refusal("0003", f"longitude {lon!r} is not a decimal between -180 and 180")
    tags = tags_of(fields)
    if len(tags) > max_tags:
        return Refusal("0003", f"{len(tags)} tags: at most {max_tags}")
    return None


def part_refusal(part: Upload, extensions: tuple[str, ...], type_prefix: str, max_bytes: int) -> Optional[Refusal]:
    """A v1 file part's extension, Content-Type and size."""
    if PurePath(part.filename).suffix.lower() not in extensions:
        return Refusal("0003", f"{part.filename!r}: extension is not one of {' '.join(extensions)}")
    if not part.content_type.startswith(type_prefix):
        return Refusal("0003", f"{part.filename!r}: Content-Type {part.content_type!r} must start with {type_prefix}")
    if part.size > max_bytes:
        return Refusal("0003", f"{part.filename!r}: {part.size} bytes, over the {max_bytes} byte limit")
    return None


def video_refusal(fields: dict[str, list[str]], files: list[Upload], limits: Limits) -> Optional[Refusal]:
    """v1 /serve/api/v1/upload."""
    videos = [f for f in files if f.field == "file"]
    if len(videos) != 1:
        return Refusal("0001", "exactly one file part named 'file' is required")
    refusal = part_refusal(videos[0], VIDEO_EXTENSIONS, "video/", limits.video_bytes)
    if refusal:
        return refusal
    callback = _one(fields, "callback")
    if callback is not None and (len(callback) > 299 or not _is_url(callback)):
        return Refusal("0003", "callback must be a URI of at most 299 characters")
    retain = _one(fields, "retain_original_video")
    if retain is not None and retain.lower() not in ("true", "false"):
        return Refusal("0003", f"retain_original_video {retain!r} is not a boolean")
    folder = _one(fields, "folder_id")
    if folder is not None and not re.fullmatch(r"-1|[1-9]\d{0,18}", folder):
        return Refusal("0003", f"folder_id {folder!r} is not -1 or a positive integer")
    return metadata_refusal(fields, limits.video_tags)


def image_refusal(fields: dict[str, list[str]], files: list[Upload], limits: Limits) -> Optional[Refusal]:
    """v1 /serve/api/v1/upload_img: one bad image refuses the whole batch."""
    images = [f for f in files if f.field == "files"]
    if not images:
        return Refusal("0001", "at least one part named 'files' is required")
    if len(images) > limits.image_batch:
        return Refusal("0003", f"{len(images)} images in one request: at most {limits.image_batch}")
    for img in images:
        refusal = part_refusal(img, IMAGE_EXTENSIONS, "image/", limits.image_bytes)
        if refusal:
            return refusal
    return metadata_refusal(fields, limits.image_tags)


def security_request(raw: Optional[str], content_type: str, asynchronous: bool,
                     limits: Limits) -> tuple[Optional[dict[str, Any]], Optional[Refusal]]:
    """The `req` JSON part of a security upload: (request, None) or (None, refusal)."""
    if raw is None:
        return None, Refusal("0001", "the 'req' part is required")
    if not content_type.startswith("application/json"):
        return None, Refusal("0001", f"the 'req' part must be application/json, not {content_type!r}")
    try:
        req = json.loads(raw)
    except ValueError:
        return None, Refusal("0001", "the 'req' part is not valid JSON")
    if not isinstance(req, dict):
        return None, Refusal("0001", "the 'req' part must be a JSON object")
    for name in ("user_prompt", "system_prompt"):
        if not isinstance(req.get(name), str) or not req[name].strip():
            return None, Refusal("0001", f"{name} is required")
    if asynchronous and not (isinstance(req.get("callback"), str) and _is_url(req["callback"])):
        return None, Refusal("0001", "callback is required for the asynchronous endpoint")
    effort = req.get("reasoning_effort")
    if effort is not None and effort not in [str(i) for i in range(1, 11)]:
        return None, Refusal("0001", f"reasoning_effort {effort!r} must be a string from '1' to '10'")
    persons = req.get("persons") or []
    if not isinstance(persons, list) or len(persons) > limits.persons:
        return None, Refusal("0001", f"persons: at most {limits.persons}")
    return req, None


def security_file_refusal(files: list[Upload], limits: Limits) -> Optional[Refusal]:
    videos = [f for f in files if f.field == "files"]
    if len(videos) != 1:
        return Refusal("0001", "exactly one part named 'files' is required")
    if not videos[0].content_type.startswith("video/"):
        return Refusal("0001", f"files Content-Type {videos[0].content_type!r} must start with video/")
    if videos[0].size > limits.security_bytes:
        return Refusal("0001", f"the video is over {limits.security_bytes} bytes")
    return None


def asset_refusal(files: list[Upload], max_bytes: int) -> Optional[Refusal]:
    """v2 upload (direct, or to a signed URL with the signed-URL limit)."""
    assets = [f for f in files if f.field == "file"]
    if len(assets) != 1:
        return Refusal("400", LIMIT_MESSAGE)  # the v2 API's shared, vague 400
    if PurePath(assets[0].filename).suffix.lower() not in ASSET_EXTENSIONS:
        return Refusal("415", f"unsupported file type {assets[0].filename!r}")
    if assets[0].size > max_bytes:
        return Refusal("400", LIMIT_MESSAGE)
    return None
