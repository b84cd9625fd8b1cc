"""The emulated search of the private library (POST /serve/api/v1/search), deterministic.

What a video can be found by: its name, its tags (not `api` nor `sha256:…`) and camera
model, as one segment of its first five seconds; and the segments a test gave it
(POST /_admin/segments: start, end, text, kind "clip" or "audio"). BY_CLIP (and BY_VIDEO)
searches the name segment and the clip segments, BY_AUDIO the audio ones, BY_CAPTION both
kinds (the transcript table). A segment's score is the share of the query's words it holds;
hits are ranked by score, then newest video, then segment start. Only parsed videos are
found, as on the real service. Requests are checked as the OpenAPI copy documents them.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import datetime, timezone
from typing import Any, Optional

from aiohttp import web

from mavi_sync.emulator.answers import field_of, position_of, taken_ms, v1
from mavi_sync.emulator.library import GEO_RADIUS_KM, Library, integer, json_object, km_between
from mavi_sync.emulator.store import Record

TYPES = ("BY_VIDEO", "BY_CLIP", "BY_AUDIO", "BY_IMAGE", "BY_CAPTION")
LEVELS = {"low": 0.15, "medium": 0.225, "high": 0.4}
NAME_SEGMENT_S = 5.0
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def score(query: list[str], held: frozenset[str]) -> float:
    """The share of the query's words a text (its words, `held`) holds (pure)."""
    return round(sum(1 for w in query if w in held) / len(query), 4) if query else 0.0


def request_problem(body: dict[str, Any]) -> Optional[tuple[str, str]]:
    """(code, message) when the request is not as documented, else None (pure)."""
    query = body.get("search_param")
    if not isinstance(query, str) or not query.strip():
        return "0001", "search_param is required and must be non-empty"
    kind = body.get("search_type", "BY_CLIP")
    if kind not in TYPES:
        return "0003", f"search_type must be one of {', '.join(TYPES)}"
    top_k = body.get("top_k")
    high = 200 if kind == "BY_CAPTION" else 1000
    if top_k is not None and (integer(top_k) is None or not 1 <= int(top_k) <= high):
        return "0003", f"top_k must be between 1 and {high} for {kind}"
    if body.get("filtering_level") is not None and body["filtering_level"] not in LEVELS:
        return "0003", "filtering_level must be low, medium or high"
    nos = body.get("video_nos")
    if nos is not None and (not isinstance(nos, list) or len(nos) > 100):
        return "0003", "video_nos: an array of at most 100"
    if (body.get("latitude") is None) != (body.get("longitude") is None):
        return "0003", "latitude and longitude must be supplied together"
    if body.get("folder_id") is not None and integer(body["folder_id"]) is None:
        return "0003", "folder_id must be an integer"
    return None


Segment = tuple[float, float, str, str, frozenset[str]]  # start, end, text, kind, its words


class Search:
    def __init__(self, library: Library) -> None:
        self.library = library
        self._segs: dict[str, list[Segment]] = {}  # a video's segments, words split once
        self._postings: dict[str, list[tuple[Record, int]]] = {}  # word → (video, segment) holding it
        self._indexed_at: tuple[int, int] = (-1, -1)  # (the store's version, the segments' revision)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body, refusal = await json_object(request)
        if refusal is not None:
            return refusal
        problem = request_problem(body)
        if problem:
            return v1(*problem)
        kind = "BY_CLIP" if body.get("search_type", "BY_CLIP") == "BY_VIDEO" else body.get("search_type", "BY_CLIP")
        top_k = int(body.get("top_k") or (10 if kind == "BY_CAPTION" else 100))
        if kind == "BY_IMAGE":  # images are not indexed here: an empty page of the image shape
            return v1("0000", "success", {"current_page": 0, "page_size": top_k, "total_count": 0, "item": []})
        floor = LEVELS.get(body.get("filtering_level") or "", 0.0)
        query = words(body["search_param"])
        found, now = [], time.time()
        for r, i in self._candidates(query):
            start, end, text, seg_kind, held = self._segs[r.id][i]
            if not _wanted(kind, seg_kind) or (s := score(query, held)) <= floor:
                continue
            if r.status(now, self.library.timing) == "PARSE" and self._passes(r, body):
                found.append((s, r, start, end, text))
        found.sort(key=lambda f: (-f[0], -f[1].created_at, f[1].id, f[2]))
        maker = self._caption_item if kind == "BY_CAPTION" else self._video_item
        return v1("0000", "success", [maker(kind, *f, request) for f in found[:top_k]])

    def _passes(self, r: Record, body: dict[str, Any]) -> bool:
        lib = self.library
        if body.get("video_nos") and r.id not in body["video_nos"]:
            return False
        if body.get("tag") and body["tag"] not in r.tags:
            return False
        if body.get("camera_tag") and field_of(r, "camera_model") != body["camera_tag"]:
            return False
        if body.get("folder_id") is not None and lib.folder_of(r) != integer(body["folder_id"]):
            return False
        taken = body.get("datetime_taken")
        if taken and (taken_ms(r) or -1) < _ms(taken):
            return False
        if body.get("latitude") is not None:
            here = position_of(r)
            return here is not None and km_between(here, (body["latitude"], body["longitude"])) <= GEO_RADIUS_KM
        return True

    def _candidates(self, query: list[str]) -> list[tuple[Record, int]]:
        """Each (video, segment) holding a word of the query, from an index made once per
        change of the store or the segments (benchmarks search 100,000 videos)."""
        now = (self.library.store.version, self.library.revision)
        if self._indexed_at != now:
            self._segs, self._postings, self._indexed_at = {}, {}, now
            for r in self.library.videos(None):
                self._segs[r.id] = self._segments(r)
                for i, segment in enumerate(self._segs[r.id]):
                    for word in segment[4]:
                        self._postings.setdefault(word, []).append((r, i))
        found: dict[tuple[str, int], tuple[Record, int]] = {}
        for word in dict.fromkeys(query):
            for r, i in self._postings.get(word, ()):
                found[(r.id, i)] = (r, i)
        return list(found.values())

    def _segments(self, r: Record) -> list[Segment]:
        tags = [t for t in r.tags if t != "api" and not t.startswith("sha256:")]
        name = " ".join([r.filename, *tags, field_of(r, "camera_model") or ""])
        given = [(float(s["start"]), float(s["end"]), str(s["text"]), str(s.get("kind", "clip")))
                 for s in self.library.segments.get(r.id, [])]
        return [(start, end, text, kind, frozenset(words(text)))
                for start, end, text, kind in [(0.0, NAME_SEGMENT_S, name, "name"), *given]]

    @staticmethod
    def _video_item(kind: str, s: float, r: Record, start: float, end: float, text: str,
                    request: web.Request) -> dict[str, Any]:
        item: dict[str, Any] = {"videoNo": r.id, "videoName": r.filename, "startTime": f"{start:g}",
                                "endTime": f"{end:g}", "score": s, "video_bucket": "emulator",
                                "video_blob": f"{r.id}.mp4"}
        if kind == "BY_AUDIO":
            item["audio_ts"] = text
        else:
            item.update(keyframe_bucket="emulator-keyframe", keyframe_blob=f"{r.id}/keyframe-{int(start):06d}.jpg")
        return item

    @staticmethod
    def _caption_item(kind: str, s: float, r: Record, start: float, end: float, text: str,
                      request: web.Request) -> dict[str, Any]:
        user = hashlib.md5(request.headers.get("Authorization", "").encode()).hexdigest()  # (as the docs say: MD5)
        return {"video_no": r.id, "text": text, "vector": [round(s, 4), 0.0, 0.0], "user_id": user,
                "start_time": start, "end_time": end, "score": s}


def _wanted(kind: str, segment: str) -> bool:
    if kind == "BY_AUDIO":
        return segment == "audio"
    if kind == "BY_CAPTION":
        return segment in ("clip", "audio")
    return segment in ("clip", "name")


def _ms(text: Any) -> int:
    """search's datetime_taken (yyyy-MM-dd HH:mm:ss, taken as UTC) in ms; 0 when unreadable."""
    try:
        return int(datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp() * 1000)
    except ValueError:
        return 0
