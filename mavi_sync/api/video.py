"""v1 video: upload, status (get_metadata), lookup by tag and pages of the listing (list_videos)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from mavi_sync.api.body import Body, FilePart, Progress, form_fields
from mavi_sync.api.model import DONE, FAILED, MISSING, PENDING, RemoteStatus, UploadJob, UploadResult
from mavi_sync.api.transport import Transport
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import TransientError

UPLOAD = "/serve/api/v1/upload"
METADATA = "/serve/api/v1/get_metadata"
LIST = "/serve/api/v1/list_videos"
FAILURE_SPELLINGS = frozenset({"FAILED", "FAIL", "PARSE_ERROR"})


def upload(t: Transport, base_url: str, key: Secret, job: UploadJob,
           progress: Optional[Progress] = None) -> UploadResult:
    """POST the video and its fields; return its videoNo (status UNPARSE)."""
    part = FilePart("file", job.path, job.filename, job.mime, job.size, job.mtime_ns)
    with Body(form_fields(dict(job.form)), [part], progress) as body:
        data = t.request("POST", base_url + UPLOAD, dialect="v1", what=f"video upload of {job.path.name}",
                         key=key, kind="upload", body=body)
        sent = body.sent
    video = (data or {}).get("data") or {}
    video_no = video.get("videoNo") or video.get("video_no")
    if not video_no:
        raise TransientError(f"video upload of {job.path.name}: the answer has no videoNo")
    return UploadResult("video", str(video_no), str(video.get("videoStatus") or "UNPARSE"), final=False,
                        bytes_sent=sent)


def status(t: Transport, base_url: str, key: Secret, video_no: str, namespace: str) -> RemoteStatus:
    """The video's processing state; MISSING while the server does not show it yet."""
    data = t.request("GET", base_url + METADATA, dialect="v1", what=f"status of {video_no}", key=key,
                     params={"video_no": video_no, "unique_id": namespace})
    return parse_status((data or {}).get("data"))


def parse_status(data: object) -> RemoteStatus:
    """get_metadata's `data` → RemoteStatus (pure)."""
    if not isinstance(data, dict):
        return RemoteStatus(MISSING, None)
    raw = str(data.get("status") or "").upper()
    if raw == "PARSE":
        return RemoteStatus(DONE, raw)
    if raw in FAILURE_SPELLINGS:
        return RemoteStatus(FAILED, raw, str(data.get("cause") or "no cause given"))
    return RemoteStatus(PENDING, raw or None)


def find_by_tag(t: Transport, base_url: str, key: Secret, tag: str, namespace: str) -> Optional[str]:
    """The videoNo of a video uploaded with `tag` in `namespace`, or None."""
    data = t.request("POST", base_url + LIST, dialect="v1", what="lookup of an earlier upload", key=key,
                     json_body={"page": 1, "size": 20, "unique_id": namespace, "tag": tag})
    videos = ((data or {}).get("data") or {}).get("videos") or []
    for video in videos:
        tags = video.get("tags")
        if tags is None or tag in tags:  # trust the filter when tags are not echoed
            number = video.get("video_no") or video.get("videoNo")
            if number:
                return str(number)
    return None


@dataclass(frozen=True)
class Page:
    """One page of list_videos: its videos as the server gives them, and its own counts."""

    videos: list[dict[str, Any]]
    total: Optional[int]  # total_count: every video the filters match
    page_size: Optional[int]  # what the server used, which may be less than was asked


def list_page(t: Transport, base_url: str, key: Secret, namespace: str, page: int, size: int,
              **filters: Any) -> Page:
    """Page `page` (one-based) of `size` videos in `namespace`, newest first as the server
    orders them; `filters` are list_videos' own (status, tag, camera_model, video_nos…)."""
    data = t.request("POST", base_url + LIST, dialect="v1", what=f"page {page} of the video list", key=key,
                     json_body={"page": page, "size": size, "unique_id": namespace, **filters})
    body = (data or {}).get("data") if isinstance(data, dict) else None
    body = body if isinstance(body, dict) else {}
    videos = [v for v in body.get("videos") or [] if isinstance(v, dict)]
    return Page(videos, _int(body.get("total_count")), _int(body.get("page_size")))


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
