"""The callback receiver: an HTTP listener the daemon runs when `[receiver] listen` is set,
where memories.ai's async security endpoint posts each clip's result
(`{"status": 0|-1, "task_id": "…", "data": {"text": "…", "token": {…}}}`, see
../shared/api/README.md). There is no endpoint to ask for a task's result, so without a
receiver an async caption is lost.

The URL memories.ai is given is `public_url` + `/security/` + a secret the daemon makes once
and keeps in its ledger: a post to any other path is answered 404 and recorded nowhere, so
only whoever was given the URL can write captions. Expose it with a reverse proxy or a
tunnel (docs/guides/captions.md, "Async results and the receiver"); it speaks plain HTTP and should listen on loopback.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from mavi_sync.config.schema import Config
from mavi_sync.ledger.store import Ledger
from mavi_sync.logs import get_logger

log = get_logger("mavi_sync.captions.receiver")

SECRET_KEY = "callback_secret"  # its key in the ledger's daemon table (never shown by status)
MAX_BODY = 1 << 20
UNKNOWN_TASK_WAIT_S = 10.0  # a result may come before the upload's own answer was recorded


def secret_of(ledger: Ledger) -> str:
    """The callback secret, made on first use and kept in the ledger."""
    known = ledger.daemon().get(SECRET_KEY)
    if known:
        return known[0]
    made = secrets.token_urlsafe(24)
    ledger.set_daemon(**{SECRET_KEY: made})
    return made


def with_callbacks(config: Config, ledger: Ledger) -> Config:
    """`config` with the receiver's URL as the callback of every async security folder that
    names none of its own (the URL holds the secret: it is made here, never logged)."""
    if not config.receiver.listen:
        return config
    url = f"{config.receiver.public_url.rstrip('/')}/security/{secret_of(ledger)}"
    folders = tuple(dataclasses.replace(f, security=dataclasses.replace(f.security, callback=url))
                    if f.security.mode == "async" and not f.security.callback else f for f in config.folders)
    return dataclasses.replace(config, folders=folders)


Recorded = Callable[[int, str], None]  # (ledger row id, caption): the daemon writes sidecars


class Receiver:
    def __init__(self, listen: str, ledger: Ledger, on_caption: Recorded) -> None:
        host, _, port = listen.rpartition(":")
        self.ledger, self.on_caption = ledger, on_caption
        self.secret = secret_of(ledger)
        self.server = ThreadingHTTPServer((host.strip("[]"), int(port)), _handler(self))
        self.server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def start(self) -> "Receiver":
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def accept(self, path: str, body: bytes) -> int:
        """The HTTP status for one post (the handler's whole job, testable without sockets)."""
        # `.../security/SECRET`: whatever prefix the public URL has (a proxy may keep it or not)
        parts = path.split("?", 1)[0].rstrip("/").split("/")
        given = parts[-1] if len(parts) >= 2 and parts[-2] == "security" else ""
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return 404
        try:
            payload = json.loads(body)
            task_id = str(payload["task_id"])
            data = payload.get("data") or {}
            ok = payload.get("status", 0) in (0, "0")
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("callback_unreadable", size=len(body))
            return 400
        # The documented shape has the text under data; the sync answer's has it one level
        # deeper (data.data.text): both are read.
        text = data.get("text") if isinstance(data, dict) else None
        if text is None and isinstance(data, dict) and isinstance(data.get("data"), dict):
            text = data["data"].get("text")
        result = {"text": text, "token": data.get("token") or {}} if ok and isinstance(text, str) else \
            {"error": str(payload.get("msg") or payload.get("message") or "the service reported a failure")}
        row = self._record(task_id, result, "DONE" if "text" in result else "FAILED")
        if row is None:
            log.warning("callback_unknown_task", task_id=task_id)
            return 202
        if "text" in result:
            self.on_caption(row, str(text))
        else:
            log.warning("caption_failed", task_id=task_id, error=result["error"])
        return 200

    def _record(self, task_id: str, result: dict[str, Any], status: str) -> Optional[int]:
        deadline = time.monotonic() + UNKNOWN_TASK_WAIT_S
        while True:
            row = self.ledger.set_result("security", task_id, result, status)
            if row is not None or time.monotonic() >= deadline:
                return row
            time.sleep(0.2)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            self._answer(receiver.accept(self.path, self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802
            self._answer(404)

        def _answer(self, status: int) -> None:
            body = json.dumps({"ok": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # the path holds the secret: never logged
            return

    return Handler


__all__ = ["Receiver", "with_callbacks", "secret_of"]
