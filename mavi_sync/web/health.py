"""`/healthz`: is this daemon healthy? For a container's HEALTHCHECK and for monitors. Pure.

Unhealthy (503) is what a person or a restart must see to: the daemon's loop stopped
beating, the ledger cannot be read or written, the account cannot upload (a bad key, no
credits). Waiting is healthy (200): outside the upload windows or paused by hand (the
owner's choice), and during an API outage (the daemon tries again by itself; restarting
it would not bring memories.ai back). The body says which, in a few bytes.
"""

from __future__ import annotations

from typing import Any

UNHEALTHY = ("stalled", "ledger", "account")


def health(doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for the board's document."""
    status = _status(doc)
    return (503 if status in UNHEALTHY else 200), {"ok": status not in UNHEALTHY, "status": status}


def _status(doc: dict[str, Any]) -> str:
    if doc.get("error"):
        return "ledger"
    held = {h["kind"] for h in doc.get("held", ())}
    for kind in ("ledger", "account"):
        if kind in held:
            return kind
    report = doc.get("status") or {}
    if not report.get("running") or report.get("pid") != doc.get("pid"):
        return "stalled"  # no heartbeat of this process for 30 s: its loop is stuck
    if "outage" in held:
        return "outage"
    return "held" if held else "ok"
