"""How the emulated hosts shape their answers: the v1 and v2 envelopes, and the JSON views
of stored records. Pure: no I/O."""

from __future__ import annotations

from typing import Any, Optional

from aiohttp import web

from mavi_sync.emulator import validate as v
from mavi_sync.emulator.store import Record

V1_MESSAGES = {"0401": "Invalid API key.", "0402": "Insufficient credits.", "0403": "Account disabled.",
               "0429": v.LIMIT_MESSAGE}


def v1(code: str, msg: str = "success", data: Any = None) -> web.Response:
    ok = code == "0000"
    return web.json_response({"code": code, "msg": msg, "data": data, "success": ok, "failed": not ok})


def v2(status: int, msg: str = "success", data: Any = None, headers: Optional[dict[str, str]] = None) -> web.Response:
    ok = status == 200
    return web.json_response({"code": status, "msg": msg, "data": data, "success": ok, "failed": not ok},
                             status=status, headers=headers)


def public(r: Record) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "namespace": r.namespace, "filename": r.filename,
            "content_type": r.content_type, "size": r.size, "sha256": r.sha256, "fields": r.fields,
            "tags": r.tags, "created_at": r.created_at, "via": r.via, "answered": r.answered, "blob": r.blob,
            "outcome": r.outcome}


def video_json(r: Record, status: str) -> dict[str, Any]:
    out: dict[str, Any] = {"video_no": r.id, "video_name": r.filename, "size": r.size, "status": status,
                           "create_time": int(r.created_at * 1000)}
    if status == "FAILED":
        out["cause"] = r.cause
    for name in ("camera_model", "latitude", "longitude", "datetime_taken"):
        values = r.fields.get(name)
        if values:
            out[name] = values[-1]
    if r.tags:
        out["tags"] = r.tags
    return out


def matches(r: Record, query: dict[str, Any], status: Optional[str]) -> bool:
    if status is None:  # not visible yet
        return False
    if query.get("video_no") and r.id != query["video_no"]:
        return False
    if query.get("video_nos") and r.id not in query["video_nos"]:
        return False
    if query.get("status") and status != query["status"]:
        return False
    if query.get("tag") and query["tag"] not in r.tags:
        return False
    if query.get("camera_model") and (r.fields.get("camera_model") or [None])[-1] != query["camera_model"]:
        return False
    return True


def caption(record: Record, req: dict[str, Any]) -> dict[str, Any]:
    text = (f"Emulated understanding of {record.filename}: {record.size} bytes, sha256 {record.sha256[:12]}. "
            f"Prompt: {str(req.get('user_prompt'))[:80]}")
    tokens_in = len(str(req.get("user_prompt"))) // 4 + len(str(req.get("system_prompt"))) // 4 + 100
    tokens_out = len(text) // 4
    return {"data": {"text": text}, "token": {"input": tokens_in, "output": tokens_out,
                                               "total": tokens_in + tokens_out}}


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
