"""What the client is asked to upload and what it answers. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

# Remote states every endpoint's spelling is mapped to.
PENDING, DONE, FAILED, MISSING = "pending", "done", "failed", "missing"


@dataclass(frozen=True)
class UploadJob:
    """One file for one target, as planned (plan.py) and hashed."""

    path: Path
    target: str  # video | image | security | asset
    filename: str  # the name in the multipart part (the real extension for the content)
    mime: str
    size: int
    mtime_ns: int
    sha256: str
    namespace: str = "default"  # v1 unique_id
    form: Mapping[str, Any] = field(default_factory=dict)  # UploadFields.form
    method: str = "direct"  # asset: "signed" above the direct-upload limit
    security_mode: str = "sync"
    # An earlier attempt may have reached the server (a crash or timeout after sending):
    # look the video up by its sha256 tag before sending it again.
    maybe_sent: bool = False
    # The tag the video carries that finds it again on the server (`sha256:<hash>`), or None
    # when it carries none (video_sha_tag = false): then nothing can be looked up.
    lookup_tag: Optional[str] = None
    # The memories.ai folder it goes to, by name ([[folders]] server_folder): the client puts
    # the folder's id, made once, on the upload (api/folders.py). None: the form's folder_id.
    server_folder: Optional[str] = None


@dataclass(frozen=True)
class UploadResult:
    target: str
    remote_id: str
    remote_status: str  # the server's own word: UNPARSE, WAITING, SUBMITTED, DONE
    # True when nothing is left to follow: image ids and security results are final.
    final: bool
    adopted: bool = False  # found on the server by its sha256 tag; not sent again
    details: Mapping[str, Any] = field(default_factory=dict)  # security: caption text, tokens
    bytes_sent: int = 0


@dataclass(frozen=True)
class RemoteStatus:
    state: str  # PENDING, DONE, FAILED or MISSING (not visible yet)
    raw: Optional[str]  # the server's spelling
    cause: str = ""
