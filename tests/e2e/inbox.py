"""A real HTTP receiver on 127.0.0.1 for what the daemon sends its owner: Apprise's `json://`
notifications (POSTs of {"title", "message", "type"}) and health check pings (GETs)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional


class Inbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def _take(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Optional[Any] = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with inbox.lock:
                    inbox.requests.append({"method": self.command, "path": self.path, "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            do_GET = do_POST = do_HEAD = _take

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> "Inbox":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def notices(self, path: str = "/notify") -> list[dict[str, Any]]:
        """The JSON notifications posted to `path`: {"title", "message", "type", …}."""
        with self.lock:
            return [r["body"] for r in self.requests if r["method"] == "POST" and r["path"] == path]

    def pings(self, prefix: str = "/ping") -> list[str]:
        with self.lock:
            return [r["path"] for r in self.requests if r["method"] == "GET" and r["path"].startswith(prefix)]
