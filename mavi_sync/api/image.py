"""v1 image library: batched uploads (`files` repeated), ids mapped back by order.

The server refuses a whole batch for one bad file, so a batch holds only images
that share every metadata field and that pass the endpoint's checks here first.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Optional, Sequence

from mavi_sync.api.body import Body, FilePart, Progress, form_fields
from mavi_sync.api.model import UploadJob, UploadResult
from mavi_sync.api.transport import Transport
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import TransientError

UPLOAD = "/serve/api/v1/upload_img"
EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp")
MAX_BYTES = 20 * 1000 * 1000
MAX_TAGS = 50


def problems(job: UploadJob) -> list[str]:
    """Why the server would refuse this image (empty when it would take it). Pure."""
    found = []
    if PurePath(job.filename).suffix.lower() not in EXTENSIONS:
        found.append(f"extension of {job.filename!r} is not one of {' '.join(EXTENSIONS)}")
    if not job.mime.startswith("image/"):
        found.append(f"content type {job.mime} is not image/*")
    if job.size > MAX_BYTES:
        found.append(f"{job.size} bytes is over the 20 MB image limit")
    if len(job.form.get("tags", ())) > MAX_TAGS:
        found.append(f"more than {MAX_TAGS} tags")
    return found


def batch_key(job: UploadJob) -> str:
    """Images can share a request only when every metadata field is the same."""
    return json.dumps([job.namespace, dict(job.form)], sort_keys=True, default=str)


def batches(jobs: Sequence[UploadJob], max_files: int, max_bytes: int) -> list[list[UploadJob]]:
    """Group jobs into requests: same fields, at most `max_files` and `max_bytes` each. Pure."""
    groups: dict[str, list[list[UploadJob]]] = {}
    for job in jobs:
        runs = groups.setdefault(batch_key(job), [[]])
        run = runs[-1]
        if run and (len(run) >= max_files or sum(j.size for j in run) + job.size > max_bytes):
            run = []
            runs.append(run)
        run.append(job)
    return [run for runs in groups.values() for run in runs if run]


def upload(t: Transport, base_url: str, key: Secret, jobs: Sequence[UploadJob],
           progress: Optional[Progress] = None) -> list[UploadResult]:
    """POST one batch; return one result per job, in order (ids come back in part order)."""
    if not jobs or len({batch_key(j) for j in jobs}) != 1:
        raise ValueError("a batch needs at least one image, all with the same fields")
    parts = [FilePart("files", j.path, j.filename, j.mime, j.size, j.mtime_ns) for j in jobs]
    what = f"image upload of {jobs[0].path.name}" + (f" and {len(jobs) - 1} more" if len(jobs) > 1 else "")
    form = dict(jobs[0].form, unique_id=jobs[0].namespace)
    with Body(form_fields(form), parts, progress) as body:
        data = t.request("POST", base_url + UPLOAD, dialect="v1", what=what, key=key, kind="upload", body=body)
        sent = body.sent
    ids = [item.get("id") if isinstance(item, dict) else None for item in (data or {}).get("data") or []]
    if len(ids) != len(jobs) or None in ids:
        # Not knowing which id is whose would mean guessing; the batch is retried instead.
        raise TransientError(f"{what}: {len(ids)} ids came back for {len(jobs)} images")
    share = sent // len(jobs)
    return [UploadResult("image", str(i), "DONE", final=True, bytes_sent=share) for i in ids]
