"""/healthz (web/health.py): 503 for what a person or a restart must see to, 200 while uploads
wait for the owner's choice or for memories.ai to come back."""

from __future__ import annotations

from typing import Any

import pytest

from mavi_sync.web.health import health


def doc(*held: str, running: bool = True, pid: str = "7") -> dict[str, Any]:
    return {"pid": "7", "status": {"running": running, "pid": pid}, "held": [{"kind": k, "text": k} for k in held]}


@pytest.mark.parametrize("document,code,status", [
    (doc(), 200, "ok"),
    (doc("hand"), 200, "held"),
    (doc("window"), 200, "held"),
    (doc("outage"), 200, "outage"),  # a restart would not bring the API back
    (doc("account"), 503, "account"),
    (doc("hand", "account"), 503, "account"),
    (doc("ledger"), 503, "ledger"),
    (doc(running=False), 503, "stalled"),
    (doc(pid="6"), 503, "stalled"),  # a fresh heartbeat, but an earlier process's
    ({"error": "ledger read failed", "held": []}, 503, "ledger"),
])
def test_health(document: dict[str, Any], code: int, status: str) -> None:
    assert health(document) == (code, {"ok": code == 200, "status": status})
