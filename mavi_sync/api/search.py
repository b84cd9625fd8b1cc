"""v1 search of the private library (POST /serve/api/v1/search): the request, and its two
answer shapes as one list of hits.

BY_CLIP and BY_AUDIO answer items with `videoNo`, `startTime`/`endTime` (seconds, as
strings) and `score`; BY_CAPTION answers `video_no`, `start_time`/`end_time` (numbers),
`text` and `score` (the vendor's OpenAPI copy, SearchPrivateResponse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from mavi_sync.api.transport import Transport
from mavi_sync.config.secrets import Secret

SEARCH = "/serve/api/v1/search"
TYPES = {"clip": "BY_CLIP", "audio": "BY_AUDIO", "caption": "BY_CAPTION"}
MAX_TOP_K = {"clip": 1000, "audio": 1000, "caption": 200}  # the documented ranges start at 1


@dataclass(frozen=True)
class Hit:
    """One matched segment of one video."""

    video_no: str
    start_s: float
    end_s: float
    score: float
    name: str = ""  # the server's name of the video (videoName), when it gives one
    text: str = ""  # what matched, when the server says (audio_ts, a caption's text)


def request_body(query: str, kind: str, top_k: int, folder_id: Optional[int] = None) -> dict[str, Any]:
    """The JSON the search endpoint takes (pure). ValueError for a kind or top_k it does not."""
    if kind not in TYPES:
        raise ValueError(f"search type {kind!r}: one of {', '.join(TYPES)}")
    if not 1 <= top_k <= MAX_TOP_K[kind]:
        raise ValueError(f"{top_k} results: {kind} search gives 1 to {MAX_TOP_K[kind]}")
    body: dict[str, Any] = {"search_param": query, "search_type": TYPES[kind], "top_k": top_k}
    if folder_id is not None:
        body["folder_id"] = folder_id
    return body


def search(t: Transport, base_url: str, key: Secret, query: str, kind: str, top_k: int,
           folder_id: Optional[int] = None) -> list[Hit]:
    """The hits for `query`, best first as the server ranks them."""
    data = t.request("POST", base_url + SEARCH, dialect="v1", what="search", key=key,
                     json_body=request_body(query, kind, top_k, folder_id))
    return parse_hits((data or {}).get("data") if isinstance(data, dict) else None)


def parse_hits(data: Any) -> list[Hit]:
    """Either answer shape → hits (pure). Items without a video number are left out."""
    hits = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        video_no = item.get("videoNo") or item.get("video_no")
        if not video_no:
            continue
        start = _seconds(item.get("startTime", item.get("start_time")))
        end = _seconds(item.get("endTime", item.get("end_time")))
        hits.append(Hit(str(video_no), start, max(start, end), _seconds(item.get("score")),
                        str(item.get("videoName") or ""), str(item.get("audio_ts") or item.get("text") or "")))
    return hits


def _seconds(value: Any) -> float:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0
