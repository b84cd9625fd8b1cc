"""A small client for the emulator's admin endpoints (tests, benchmarks, the demo)."""

from __future__ import annotations

from typing import Any, Optional

import requests


class Admin:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _get(self, path: str, **params: Any) -> Any:
        answer = self._session.get(self.url + path, params=params, timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()

    def _post(self, path: str, body: Any) -> Any:
        answer = self._session.post(self.url + path, json=body, timeout=self.timeout)
        if answer.status_code >= 400:
            raise ValueError(answer.json().get("error", answer.text))
        return answer.json()

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Change faults (e.g. error_rate=0.2, bad_key=True); return them all."""
        return self._post("/_admin/faults", changes) if changes else self._get("/_admin/faults")

    def script(self, *rules: dict[str, Any]) -> None:
        """Force faults on the next matching requests: {"path": "...", "action": "hang", "count": 1}."""
        self._post("/_admin/script", {"rules": list(rules)})

    def uploads(self, kind: Optional[str] = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        return list(self._get("/_admin/uploads", **params)["uploads"])

    def stats(self) -> dict[str, Any]:
        return dict(self._get("/_admin/stats"))

    def reset(self) -> None:
        self._post("/_admin/reset", {})

    def close(self) -> None:
        self._session.close()
