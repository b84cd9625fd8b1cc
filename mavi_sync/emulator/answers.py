"""How the emulated hosts shape their answers: the v1 and v2 envelopes, and the JSON views
of stored records. Pure: no I/O."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from aiohttp import web

from mavi_sync.emulator import validate as v
from mavi_sync.emulator.store import Record

# Per-request state the gate hands to the handlers (aiohttp wants typed keys for it).
RULE = web.RequestKey("rule", object)
LOG = web.RequestKey("log", dict)

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
    # As the OpenAPI copy types them: the capture time in ms since the epoch, numbers for the position.
    model, taken, position = field_of(r, "camera_model"), taken_ms(r), position_of(r)
    if model:
        out["camera_model"] = model
    if taken is not None:
        out["datetime_taken"] = taken
    if position is not None:
        out["latitude"], out["longitude"] = position
    if r.tags:
        out["tags"] = r.tags
    return out


def field_of(r: Record, name: str) -> Optional[str]:
    """The last value sent for a form field, or None."""
    values = r.fields.get(name)
    return str(values[-1]) if isinstance(values, list) and values else None


def taken_ms(r: Record) -> Optional[int]:
    """datetime_taken (sent as yyyy-MM-dd HH:mm:ss, taken as UTC) in ms since the epoch."""
    text = field_of(r, "datetime_taken")
    try:
        when = datetime.strptime(text or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return int(when.timestamp() * 1000)


def position_of(r: Record) -> Optional[tuple[float, float]]:
    try:
        return float(field_of(r, "latitude") or ""), float(field_of(r, "longitude") or "")
    except ValueError:
        return None


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
