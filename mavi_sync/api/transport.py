"""The one HTTP transport: a requests session, timeouts, the rate limiters, the key header,
and the boundary where requests' exceptions become mavi-sync's (nothing above sees them).

- requests' own retries are off (max_retries=0): retry.py is the only retry layer.
- urllib3 reads request bodies in `blocksize` chunks; its 16 KiB default makes the
  multipart encoder the bottleneck, 1 MiB keeps the client far from it.
- The key goes in through a requests auth hook, so it is not in the session's headers,
  and requests never swaps in ~/.netrc credentials (it would, for a request without auth).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from mavi_sync import __version__
from mavi_sync.api.body import Body
from mavi_sync.api.classify import classify, parse_retry_after
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import Interrupted, RateLimited, TransientError, UnknownOutcome, Unreachable
from mavi_sync.api.ratelimit import RateLimiter
from mavi_sync.api.throttle import Throttle, Throttled

BLOCKSIZE = 1 << 20
MAX_ANSWER = 4 << 20  # answers are small JSON; never buffer a runaway body


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blocksize"] = BLOCKSIZE
        super().init_poolmanager(*args, **kwargs)


class KeyAuth(requests.auth.AuthBase):
    """Sets `Authorization: <key>` (the bare key, no "Bearer", as the API wants)."""

    def __init__(self, key: Optional[Secret]) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        if self._key is not None:
            request.headers["Authorization"] = self._key.reveal()
        return request

    def __repr__(self) -> str:
        return "KeyAuth(***)"


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 10.0
    read_s: float = 300.0


class Transport:
    """Sends requests for every endpoint module. Thread-safe (one session, pooled connections)."""

    def __init__(self, *, timeouts: Timeouts, upload_limiter: RateLimiter, query_limiter: RateLimiter,
                 stop: Optional[threading.Event] = None, pool_size: int = 8,
                 throttle: Optional[Throttle] = None) -> None:
        self.timeouts = timeouts
        # Every request body (uploads, signed-URL uploads) is read through it; queries never are.
        self.throttle = throttle or Throttle()
        self.limiters: dict[str, Optional[RateLimiter]] = {
            "upload": upload_limiter, "query": query_limiter, "storage": None}
        self.stop = stop or threading.Event()
        self.session = requests.Session()
        adapter = _Adapter(max_retries=0, pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"mavi-sync/{__version__}"

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, *, dialect: str, what: str, key: Optional[Secret],
                kind: str = "query", params: Optional[Mapping[str, Any]] = None,
                json_body: Optional[Any] = None, body: Optional[Body] = None,
                form: Optional[Mapping[str, str]] = None) -> Any:
        """Send one request; return the answer's JSON (None for an empty answer).

        Raises TransientError (UnknownOutcome when a full body went out and no answer came),
        RateLimited, AccountError or PermanentError as classify.py decides; FileChanged from the body.
        """
        limiter = self.limiters.get(kind)  # "storage" (signed URLs) is not the API's budget
        # A request with a body is counted as sent when its body starts (its headers are
        # out): a stall while requests prepares it then cannot bunch it with the next one.
        if limiter is not None and not limiter.acquire(self.stop, leaves_now=body is None):
            raise Interrupted(f"{what}: stopping before it was sent")
        if limiter is not None and body is not None:
            body.on_start = limiter.sent
        headers = {"Content-Type": body.content_type} if body is not None else {}
        data = Throttled(body.stream, self.throttle, self.stop) if body is not None else form  # form: urlencoded
        try:
            response = self.session.request(
                method, url, params=params, json=json_body, data=data,
                headers=headers, auth=KeyAuth(key), timeout=(self.timeouts.connect_s, self.timeouts.read_s),
                allow_redirects=False, stream=True)
        except requests.RequestException as exc:
            raise _network_error(exc, what, url, body) from None
        try:
            status, raw = response.status_code, response.raw.read(MAX_ANSWER, decode_content=True)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _network_error(exc, what, url, body) from None
        finally:
            response.close()
        data = _json(raw)
        error = classify(dialect, status, data, text=raw[:300].decode("utf-8", "replace"), what=what,
                         retry_after=retry_after)
        if isinstance(error, RateLimited) and limiter is not None:
            # Everyone waits: the account, not this request, is over its budget.
            limiter.penalize(retry_after if retry_after is not None else limiter.interval)
        if error is not None:
            raise error
        if limiter is not None:
            limiter.reward()
        return data


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _network_error(exc: BaseException, what: str, url: str, body: Optional[Body]) -> TransientError:
    """A requests/urllib3 failure as our error; the message names the host, never headers."""
    host = urlsplit(url).netloc
    kind = exc.__class__.__name__
    if isinstance(exc, requests.ConnectTimeout) or (
            isinstance(exc, requests.ConnectionError) and body is not None and body.sent == 0
            and not isinstance(exc, requests.ReadTimeout)):
        return Unreachable(f"{what}: cannot reach {host} ({kind})")
    if body is not None and body.complete:
        return UnknownOutcome(f"{what}: the upload was sent in full but {host} gave no answer ({kind})")
    if body is not None:
        return TransientError(f"{what}: connection to {host} lost after {body.sent} of {body.total} bytes ({kind})")
    return TransientError(f"{what}: no answer from {host} ({kind})")
