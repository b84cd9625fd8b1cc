"""The emulated library: folders (list, create, rename, delete, move, list a folder's videos)
and list_videos with every filter of the vendor's OpenAPI copy (ListVideosRequest).

Strict as documented: a required field missing is `0001`, a value out of its documented
range `0003`; folder names are unique within the account (`Faults.folders_unique = false`
makes a lax server that takes a second folder of the same name). What the folders hold is
kept beside the records (`library.json`), so a restarted emulator still knows it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from aiohttp import web

from mavi_sync.emulator.answers import LOG, field_of, position_of, taken_ms, v1, video_json
from mavi_sync.emulator.faults import Faults
from mavi_sync.emulator.store import Record, Store, Timing
from mavi_sync.emulator.validate import Refusal

STATUSES = ("PARSE", "UNPARSE", "FAILED")
FILTERS = ("video_name", "video_no", "video_nos", "status", "camera_model", "tag", "datetime_taken", "latitude",
           "folder_id")
DEFAULT, LEGACY = -1, -2  # the account's Default folder; the legacy API folder (read-only)
MAX_NAME = 100
MAX_MOVE = 500
GEO_RADIUS_KM = 20.0  # list_videos: "~20 km geo-within radius"


def integer(value: Any) -> Optional[int]:
    """An integer field as JSON or a form sends it, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().lstrip("-").isdigit() else None


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


class Library:
    """Folders, where each video is, and the captions a test gave videos (search.py reads them)."""

    def __init__(self, store: Store, data_dir: Path, timing: Timing, faults: Callable[[], Faults]) -> None:
        self.store, self.timing, self.faults = store, timing, faults
        self._path = Path(data_dir) / "library.json"
        self._lock = threading.Lock()
        self.folders: dict[int, str] = {}
        self.placed: dict[str, int] = {}  # video_no → folder id, for videos moved after their upload
        self.segments: dict[str, list[dict[str, Any]]] = {}  # video_no → [{start, end, text, kind}]
        self._next = int(time.time() * 1000) * 1000
        self._cache: dict[Optional[str], list[Record]] = {}
        self._cached_at = -1  # the store's version the cache is of
        self.revision = 0  # moves on with every change of the segments (search.py's index keys on it)
        if self._path.exists():
            state = json.loads(self._path.read_text(encoding="utf-8"))
            self.folders = {int(k): v for k, v in state["folders"].items()}
            self.placed, self.segments = dict(state["placed"]), dict(state["segments"])
            self._next = max([self._next, *self.folders]) + 1

    def _save(self) -> None:
        state = {"folders": self.folders, "placed": self.placed, "segments": self.segments}
        self._path.write_text(json.dumps(state), encoding="utf-8")

    def reset(self) -> None:
        with self._lock:
            self.folders, self.placed, self.segments = {}, {}, {}
            self.revision += 1
            self._save()

    def reset_cache_and_save(self) -> None:
        """After the admin endpoints changed the records or segments."""
        with self._lock:
            self._cached_at = -1
            self.revision += 1
            self._save()

    # -- where a video is ---------------------------------------------------------------
    def folder_of(self, r: Record) -> int:
        if r.id in self.placed:
            return self.placed[r.id]
        sent = integer(field_of(r, "folder_id"))
        return DEFAULT if sent is None else sent

    def exists(self, folder_id: int) -> bool:
        return folder_id in (DEFAULT, LEGACY) or folder_id in self.folders

    def upload_refusal(self, fields: dict[str, list[str]]) -> Optional[Refusal]:
        """An upload's folder_id must be the Default folder or one of the account's."""
        sent = integer((fields.get("folder_id") or [None])[-1])
        if sent is None or sent == DEFAULT or sent in self.folders:
            return None
        return Refusal("0003", f"folder_id {sent} does not belong to your account")

    def videos(self, namespace: Optional[str]) -> list[Record]:
        """The namespace's videos (None: every one), newest first: one sort per change of the
        store, not per request (benchmarks list 100,000 videos)."""
        if self._cached_at != self.store.version:
            self._cache, self._cached_at = {}, self.store.version
        if namespace not in self._cache:
            videos = [r for r in self.store.all("video") if namespace is None or r.namespace == namespace]
            videos.sort(key=lambda r: (r.created_at, r.id), reverse=True)
            self._cache[namespace] = videos
        return self._cache[namespace]

    def visible(self, namespace: Optional[str], now: float) -> list[tuple[Record, str]]:
        """(video, its status) of the namespace's videos the server shows by now."""
        return [(r, s) for r in self.videos(namespace) if (s := r.status(now, self.timing)) is not None]

    # -- list_videos ----------------------------------------------------------------------
    async def list_videos(self, request: web.Request) -> web.StreamResponse:
        query, refusal = await json_object(request)
        if refusal is not None:
            return refusal
        page, size = integer(query.get("page", 1)), integer(query.get("size", 200))
        if page is None or size is None or page < 1 or size < 1:
            return v1("0001", "page and size must be integers > 0")
        problem = list_filter_problem(query)
        if problem:
            return v1("0003", problem)
        namespace, now = str(query.get("unique_id") or "default"), time.time()
        if self.timing.visible_delay_s or any(query.get(name) is not None for name in FILTERS):
            found = [r for r, s in self.visible(namespace, now) if self.matches(r, s, query)]
        else:  # every video, each visible: the page's statuses are all that is needed
            found = self.videos(namespace)
        chunk = found[(page - 1) * size: page * size]
        if self.faults().list_repeats and 1 < page and (page - 1) * size <= len(found):
            chunk = [found[(page - 1) * size - 1], *chunk]  # the page before's last again: a listing that moved
        videos = [video_json(r, r.status(now, self.timing) or "UNPARSE") for r in chunk]
        return v1("0000", "success", {"current_page": page, "page_size": size, "total_count": len(found),
                                      "videos": videos})

    def matches(self, r: Record, status: str, q: dict[str, Any]) -> bool:
        """Whether a video passes list_videos' filters (all of them, ANDed)."""
        checks = [
            ("video_name", lambda v: r.filename == v), ("video_no", lambda v: r.id == v),
            ("video_nos", lambda v: r.id in v), ("status", lambda v: status == v),
            ("camera_model", lambda v: field_of(r, "camera_model") == v), ("tag", lambda v: v in r.tags),
            ("datetime_taken", lambda v: (taken_ms(r) or -1) >= v), ("folder_id", lambda v: self.folder_of(r) == v),
        ]
        if any(q.get(name) is not None and not test(q[name]) for name, test in checks):
            return False
        if q.get("latitude") is not None:
            here = position_of(r)
            return here is not None and km_between(here, (q["latitude"], q["longitude"])) <= GEO_RADIUS_KM
        return True

    # -- folders --------------------------------------------------------------------------
    async def list_folders(self, request: web.Request) -> web.StreamResponse:
        items = [{"folder_id": DEFAULT, "folder_name": "Default"}]
        items += [{"folder_id": i, "folder_name": n} for i, n in sorted(self.folders.items())]
        return v1("0000", "success", {"folders": items})

    async def create(self, request: web.Request) -> web.StreamResponse:
        form = await _form(request)
        name = form.get("name")
        if not name or not name.strip():
            return v1("0001", "name is required")
        if len(name) > MAX_NAME:
            return v1("0003", f"name is longer than {MAX_NAME} characters")
        with self._lock:
            if self.faults().folders_unique and name in self.folders.values():
                return v1("0003", f"a folder named {name!r} already exists")
            folder_id, self._next = self._next, self._next + 1
            self.folders[folder_id] = name
            self._save()
        return v1("0000", "success", {"folder_id": folder_id, "folder_name": name})

    async def rename(self, request: web.Request) -> web.StreamResponse:
        form = await _form(request)
        folder_id, name = integer(form.get("folder_id")), form.get("new_name")
        if folder_id is None or not name:
            return v1("0001", "folder_id and new_name are required")
        if folder_id not in self.folders or len(name) > MAX_NAME:
            return v1("0003", f"folder {folder_id} is not yours, or the name is longer than {MAX_NAME}")
        with self._lock:
            if self.faults().folders_unique and name in self.folders.values():
                return v1("0003", f"a folder named {name!r} already exists")
            self.folders[folder_id] = name
            self._save()
        return v1("0000", "success", {"folder_id": folder_id, "folder_name": name})

    async def delete(self, request: web.Request) -> web.StreamResponse:
        folder_id = integer((await _form(request)).get("folder_id"))
        if folder_id is None:
            return v1("0001", "folder_id is required")
        if folder_id not in self.folders:
            return v1("0003", f"folder {folder_id} does not belong to your account")
        if any(self.folder_of(r) == folder_id and s == "PARSE" for r, s in self.visible(None, time.time())):
            return v1("0003", f"folder {folder_id} contains parsed videos")
        with self._lock:
            del self.folders[folder_id]
            self._save()
        return v1("0000", "success", None)

    async def move(self, request: web.Request) -> web.StreamResponse:
        body, refusal = await json_object(request)
        if refusal is not None:
            return refusal
        folder_id, nos = integer(body.get("folder_id")), body.get("video_nos")
        if folder_id is None or not isinstance(nos, list) or not nos:
            return v1("0001", "folder_id and video_nos are required")
        if len(nos) > MAX_MOVE or folder_id == LEGACY or not self.exists(folder_id):
            return v1("0003", f"at most {MAX_MOVE} video_nos, into the Default folder or one of yours")
        with self._lock:
            for no in nos:
                record = self.store.get(str(no))
                if record is not None and record.kind == "video":
                    self.placed[record.id] = folder_id
            self._save()
        return v1("0000", "success", None)

    async def folder_videos(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        folder_id, page, size = integer(q.get("folder_id")), integer(q.get("page", "1")), integer(q.get("page_size", "20"))
        if folder_id is None:
            return v1("0001", "folder_id is required")
        if not self.exists(folder_id) or page is None or size is None or page < 1 or size < 1:
            return v1("0003", "an unknown folder, or page and page_size not > 0")
        found = [(r, s) for r, s in self.visible(None, time.time()) if self.folder_of(r) == folder_id]
        chunk = found[(page - 1) * size: page * size]
        return v1("0000", "success", {"current_page": page, "page_size": size, "total_count": len(found),
                                      "videos": [video_json(r, s) for r, s in chunk]})


def list_filter_problem(q: dict[str, Any]) -> Optional[str]:
    """Why list_videos' filters are not as documented, or None (pure)."""
    if q.get("status") is not None and q["status"] not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    if q.get("video_nos") is not None and not (isinstance(q["video_nos"], list)
                                               and all(isinstance(n, str) for n in q["video_nos"])):
        return "video_nos must be an array of strings"
    if q.get("datetime_taken") is not None and integer(q["datetime_taken"]) is None:
        return "datetime_taken must be milliseconds since the epoch"
    if (q.get("latitude") is None) != (q.get("longitude") is None):
        return "latitude and longitude must be supplied together"
    if q.get("latitude") is not None and not all(isinstance(q[k], (int, float)) for k in ("latitude", "longitude")):
        return "latitude and longitude must be numbers"
    if q.get("folder_id") is not None and integer(q["folder_id"]) is None:
        return "folder_id must be an integer"
    return None


async def json_object(request: web.Request) -> tuple[dict[str, Any], Optional[web.Response]]:
    try:
        body = await request.json()
    except ValueError:
        return {}, v1("0001", "the body must be JSON")
    request[LOG]["json"] = body
    if not isinstance(body, dict):
        return {}, v1("0001", "the body must be a JSON object")
    return body, None


async def _form(request: web.Request) -> dict[str, str]:
    """A urlencoded form (the folder endpoints' documented body), logged like JSON bodies."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    request[LOG]["form"] = form
    request[LOG]["content_type"] = request.content_type
    return form

