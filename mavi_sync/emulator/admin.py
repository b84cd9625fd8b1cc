"""A small client for the emulator's admin endpoints (tests, benchmarks, the demo)."""

from __future__ import annotations

from typing import Any, Optional

import requests


class Admin:
    def __init__(self, url: str, timeout: float = 60.0) -> None:
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

    def seed(self, videos: Optional[list[dict[str, Any]]] = None, **generate: Any) -> dict[str, Any]:
        """Store processed videos without uploads: `videos` as given ({filename, namespace, tags,
        camera_model, datetime_taken, status, folder_id, size, sha256, segments}), or
        `generate` them (count=, prefix=, namespace=, status=; hashes: seed.generated_sha256)."""
        body: dict[str, Any] = {"videos": videos or []}
        if generate:
            body["generate"] = generate
        return dict(self._post("/_admin/seed", body))

    def segments(self, video_no: str, *segments: dict[str, Any]) -> None:
        """What a video can be found by: {start, end, text, kind: "clip" | "audio"}."""
        self._post("/_admin/segments", {"video_no": video_no, "segments": list(segments)})

    def folders(self) -> dict[str, Any]:
        """{"folders": {id: name}, "placed": {video_no: folder id}}."""
        return dict(self._get("/_admin/folders"))

    def reset(self) -> None:
        self._post("/_admin/reset", {})

    def close(self) -> None:
        self._session.close()
