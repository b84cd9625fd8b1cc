"""v2 asset store: direct upload up to 500 MB, the signed-URL flow above, and status."""

from __future__ import annotations

from typing import Optional

from mavi_sync.api.body import Body, FilePart, Progress
from mavi_sync.api.model import DONE, FAILED, MISSING, PENDING, RemoteStatus, UploadJob, UploadResult
from mavi_sync.api.transport import Transport
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import TransientError

UPLOAD = "/serve/api/v2/upload"
SIGNED_URL = "/serve/api/v2/upload/signed-url"


def metadata_path(asset_id: str) -> str:
    return f"/serve/api/v2/{asset_id}/metadata"


def upload(t: Transport, base_url: str, key: Secret, job: UploadJob,
           progress: Optional[Progress] = None) -> UploadResult:
    """Upload the file; return its asset_id (to be followed until SUCCESS)."""
    if job.method == "signed":
        return _signed(t, base_url, key, job, progress)
    part = FilePart("file", job.path, job.filename, job.mime, job.size, job.mtime_ns)
    with Body([], [part], progress) as body:
        data = t.request("POST", base_url + UPLOAD, dialect="v2", what=f"asset upload of {job.path.name}",
                         key=key, kind="upload", body=body)
        sent = body.sent
    asset_id = ((data or {}).get("data") or {}).get("asset_id")
    if not asset_id:
        raise TransientError(f"asset upload of {job.path.name}: the answer has no asset_id")
    return UploadResult("asset", str(asset_id), "WAITING", final=False, bytes_sent=sent)


def _signed(t: Transport, base_url: str, key: Secret, job: UploadJob,
            progress: Optional[Progress]) -> UploadResult:
    """Ask for a signed URL, then POST the file there with no Authorization header:
    the URL is the credential, and the key must not travel to the storage host."""
    data = t.request("POST", base_url + SIGNED_URL, dialect="v2", what=f"signed URL for {job.path.name}",
                     key=key, kind="upload", json_body={"original_filename": job.filename})
    info = (data or {}).get("data") or {}
    asset_id, url = info.get("asset_id"), info.get("signed_url")
    if not asset_id or not url:
        raise TransientError(f"signed URL for {job.path.name}: the answer lacks asset_id or signed_url")
    part = FilePart("file", job.path, job.filename, job.mime, job.size, job.mtime_ns)
    with Body([], [part], progress) as body:
        t.request("POST", str(url), dialect="storage", what=f"signed upload of {job.path.name}", key=None,
                  kind="storage", body=body)
        sent = body.sent
    return UploadResult("asset", str(asset_id), "UPLOADING", final=False, bytes_sent=sent)


def status(t: Transport, base_url: str, key: Secret, asset_id: str) -> RemoteStatus:
    data = t.request("GET", base_url + metadata_path(asset_id), dialect="v2", what=f"status of {asset_id}",
                     key=key)
    return parse_status((data or {}).get("data"))


def parse_status(data: object) -> RemoteStatus:
    """v2 metadata's `data` → RemoteStatus (pure)."""
    resource = data.get("resource") if isinstance(data, dict) else None
    if not resource or not isinstance(resource, list) or not isinstance(resource[0], dict):
        return RemoteStatus(MISSING, None)
    raw = str(resource[0].get("upload_status") or "").upper()
    if raw == "SUCCESS":
        return RemoteStatus(DONE, raw)
    if raw == "FAILED":
        return RemoteStatus(FAILED, raw, "the asset store reports FAILED")
    return RemoteStatus(PENDING, raw or None)
