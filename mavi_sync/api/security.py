"""Security video understanding: `req` (JSON) + `files`, on its own host with its own key.

The sync endpoint answers with the caption text and token counts (final); the async
one with a task id, and the result goes to the configured callback: the server
holds the video from that moment, and there is no endpoint to ask about the task.
"""

from __future__ import annotations

import json
from typing import Optional

from mavi_sync.api.body import Body, FilePart, Progress
from mavi_sync.api.model import UploadJob, UploadResult
from mavi_sync.api.transport import Transport
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import TransientError

ASYNC = "/v1/understand/uploadFile"
SYNC = "/v1/understand/uploadFileSync"


def upload(t: Transport, base_url: str, key: Secret, job: UploadJob,
           progress: Optional[Progress] = None) -> UploadResult:
    """POST the video for understanding; sync → caption and tokens, async → task id."""
    req = dict(job.form.get("req") or {})
    path = SYNC if job.security_mode == "sync" else ASYNC
    part = FilePart("files", job.path, job.filename, job.mime, job.size, job.mtime_ns)
    # The JSON part needs its own Content-Type: a (filename, value, type) tuple gives it one.
    fields = [("req", ("req.json", json.dumps(req, ensure_ascii=False), "application/json"))]
    with Body(fields, [part], progress) as body:
        data = t.request("POST", base_url + path, dialect="security", what=f"security upload of {job.path.name}",
                         key=key, kind="upload", body=body)
        sent = body.sent
    payload = (data or {}).get("data") or {}
    if job.security_mode == "sync":
        text = (payload.get("data") or {}).get("text")
        if text is None:
            raise TransientError(f"security upload of {job.path.name}: the answer has no caption text")
        details = {"text": text, "token": payload.get("token") or {}}
        return UploadResult("security", f"sync-{job.sha256[:16]}", "DONE", final=True, details=details,
                            bytes_sent=sent)
    task_id = payload.get("task_id")
    if not task_id:
        raise TransientError(f"security upload of {job.path.name}: the answer has no task_id")
    return UploadResult("security", str(task_id), "SUBMITTED", final=True, bytes_sent=sent)
