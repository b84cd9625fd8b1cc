"""The library's routes, and the admin endpoints that fill it without uploads: videos as
the server would hold them after their upload and processing (POST /_admin/seed, also
100,000 at once for the benchmarks) and what a video can be found by (POST /_admin/segments)."""

from __future__ import annotations

import hashlib
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

from mavi_sync.emulator.library import Library
from mavi_sync.emulator.search import Search
from mavi_sync.emulator.store import Record

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OUTCOMES = {"PARSE": "SUCCESS", "UNPARSE": "PENDING", "FAILED": "FAILED"}


def generated_sha256(prefix: str, index: int) -> str:
    """The content hash of generated video `index` (its `sha256:` tag): what a benchmark
    puts in its ledger to match the server's videos."""
    return hashlib.sha256(f"{prefix}:{index}".encode()).hexdigest()


def api_routes(library: Library) -> list[tuple[str, str, Handler, str, str]]:
    """(method, path, handler, dialect, kind) of the library's API endpoints."""
    search = Search(library)
    return [
        ("POST", "/serve/api/v1/list_videos", library.list_videos, "v1", "query"),
        ("POST", "/serve/api/v1/search", search.handle, "v1", "query"),
        ("GET", "/serve/api/v1/folders", library.list_folders, "v1", "query"),
        ("POST", "/serve/api/v1/folders/create", library.create, "v1", "query"),
        ("POST", "/serve/api/v1/folders/rename", library.rename, "v1", "query"),
        ("POST", "/serve/api/v1/folders/delete", library.delete, "v1", "query"),
        ("POST", "/serve/api/v1/folders/move", library.move, "v1", "query"),
        ("GET", "/serve/api/v1/folders/videos", library.folder_videos, "v1", "query"),
    ]


def admin_routes(library: Library) -> list[tuple[str, str, Handler]]:
    seeder = Seeder(library)
    return [("POST", "/_admin/seed", seeder.seed), ("POST", "/_admin/segments", seeder.segments),
            ("GET", "/_admin/folders", seeder.folders)]


class Seeder:
    def __init__(self, library: Library) -> None:
        self.library = library

    async def seed(self, request: web.Request) -> web.StreamResponse:
        """{"videos": [{filename, namespace, tags, camera_model, datetime_taken, status,
        folder_id, size, sha256, segments}]} and/or {"generate": {count, prefix, namespace,
        status}}: stored as processed videos; answers their ids (generated: the first and last)."""
        try:
            body = await request.json()
            given = [self._record(v, i) for i, v in enumerate(body.get("videos") or [])]
            generated = self._generate(**body["generate"]) if body.get("generate") else []
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return web.json_response({"error": f"expected {{videos: [...]}} or {{generate: {{count, prefix}}}}: "
                                               f"{exc}"}, status=400)
        self.library.store.save_many(given + generated)
        for video, record in zip(body.get("videos") or [], given):
            if video.get("segments"):
                self.library.segments[record.id] = list(video["segments"])
        self.library.reset_cache_and_save()
        return web.json_response({"ids": [r.id for r in given], "generated": len(generated),
                                  "first": generated[0].id if generated else None,
                                  "last": generated[-1].id if generated else None})

    def _record(self, v: dict[str, Any], index: int, base: float = 0.0) -> Record:
        store = self.library.store
        sha = str(v.get("sha256") or hashlib.sha256(f"seeded:{time.time()}:{index}".encode()).hexdigest())
        fields: dict[str, Any] = {k: [str(v[k])] for k in ("camera_model", "datetime_taken", "latitude",
                                                           "longitude", "folder_id") if v.get(k) is not None}
        status = str(v.get("status", "PARSE"))
        record_id = store.new_id("video")
        name = str(v.get("filename") or f"{record_id}.mp4")
        created = (base or time.time() - 86400) + index * 0.001  # processed long ago, in order
        return Record(record_id, "video", str(v.get("namespace") or "default"), name, "video/mp4",
                      int(v.get("size", 1000)), sha, fields, [*map(str, v.get("tags") or []), "api"], created,
                      outcome=OUTCOMES[status], cause="seeded failure" if status == "FAILED" else "")

    def _generate(self, count: int, prefix: str = "bench", namespace: str = "default",
                  status: str = "PARSE") -> list[Record]:
        base = time.time() - 86400
        return [self._record({"filename": f"{prefix}-{i:06d}.mp4", "namespace": namespace, "status": status,
                              "sha256": generated_sha256(prefix, i), "size": 1000 + i,
                              "tags": [f"sha256:{generated_sha256(prefix, i)}"]}, i, base) for i in range(int(count))]

    async def segments(self, request: web.Request) -> web.StreamResponse:
        """{"video_no": ..., "segments": [{start, end, text, kind}]}: what the video can be found by."""
        body = await request.json()
        record = self.library.store.get(str(body.get("video_no")))
        if record is None or record.kind != "video":
            return web.json_response({"error": f"no video {body.get('video_no')!r}"}, status=400)
        self.library.segments[record.id] = list(body.get("segments") or [])
        self.library.reset_cache_and_save()
        return web.json_response({"video_no": record.id, "segments": len(self.library.segments[record.id])})

    async def folders(self, request: web.Request) -> web.StreamResponse:
        lib = self.library
        return web.json_response({"folders": {str(k): v for k, v in lib.folders.items()},
                                  "placed": {r.id: lib.folder_of(r) for r, _s in lib.visible(None, time.time())}})
