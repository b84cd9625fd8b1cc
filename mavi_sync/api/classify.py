"""Answers and failures → what to do about them. Pure: the one place errors are classified.

Four answer dialects (../shared/api/README.md):
- `v1` (api host) and `security`: HTTP 200 with a business `code` ("0000" ok, "0429" rate
  limit, "0401"/"0402"/"0403"/"9009" account, "0001"/"0003" bad parameters, "0409" duplicate);
- `v2` (asset host): the integer `code` equals the HTTP status; a 400 saying "Request has
  exceeded the limit." is used for rate limits *and* validation, so it is ambiguous;
- `storage`: the signed-URL host, plain HTTP statuses.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any, Optional

from mavi_sync.errors import (
    AccountError,
    AmbiguousRefusal,
    ApiError,
    PermanentError,
    RateLimited,
    SignedUrlExpired,
    TransientError,
    UnknownOutcome,
)

DIALECTS = ("v1", "security", "v2", "storage")
V1_OK = "0000"
ACCOUNT_CODES = {"0401": "bad_key", "0402": "no_credits", "0403": "disabled", "9009": "permission"}
ACCOUNT_STATUSES = {401: "bad_key", 402: "no_credits", 403: "disabled"}
ACCOUNT_HINTS = {
    "bad_key": "Check the API key (mavi-sync check-config shows where it is read from).",
    "no_credits": "Top up the memories.ai account; uploads resume by themselves.",
    "disabled": "The account is disabled; contact memories.ai support.",
    "permission": "The key lacks permission for this endpoint; check the key's plan.",
}


def normalise_code(code: Any) -> Optional[str]:
    """Business codes come as "0000", 0 or "0": give them one spelling ("0000", "0429")."""
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, int):
        return f"{code:04d}"
    text = str(code).strip()
    return f"{int(text):04d}" if text.isdigit() else text


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _message(body: Any, text: str = "") -> str:
    if isinstance(body, dict):
        msg = body.get("msg") or body.get("message") or ""
        return str(msg)[:300]
    return text.strip()[:300]


def classify(dialect: str, status: int, body: Any, *, text: str = "", what: str = "request",
             retry_after: Optional[float] = None) -> Optional[ApiError]:
    """None when the answer is a success, else the error that says what to do."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    msg = _message(body, text)
    kw: dict[str, Any] = {"status": status, "server_message": msg, "retry_after": retry_after}
    by_status = _by_status(dialect, status, what, msg, kw)
    if by_status is not None or not 200 <= status < 300:
        return by_status or PermanentError(f"{what} refused: HTTP {status} {msg}".rstrip(), **kw)
    if dialect == "storage":
        return None
    if not isinstance(body, dict):
        return TransientError(f"{what}: the server's answer is not JSON (HTTP {status})", **kw)
    if dialect == "v2":
        code = body.get("code", 200)
        if isinstance(code, int) and code != 200:  # a gateway that answers 200 with an error inside
            return classify("v2", code, body, what=what, retry_after=retry_after)
        return None
    return _by_business_code(normalise_code(body.get("code")), what, msg, kw)


def _by_status(dialect: str, status: int, what: str, msg: str, kw: dict[str, Any]) -> Optional[ApiError]:
    """Errors any dialect signals with the HTTP status; None for 2xx and plain 4xx."""
    if status == 429:
        return RateLimited(f"{what}: rate limit exceeded (HTTP 429)", **kw)
    if status >= 500 or status == 408:
        return TransientError(f"{what}: server error HTTP {status} {msg}".rstrip(), **kw)
    if dialect == "storage" and status in (400, 401, 403):
        # Cloud storage answers an expired or mangled signature with 400/401/403.
        return SignedUrlExpired(f"{what}: the signed URL was refused (HTTP {status}); a new one is needed", **kw)
    if status in ACCOUNT_STATUSES:
        reason = ACCOUNT_STATUSES[status]
        return AccountError(f"{what}: account problem ({reason}, HTTP {status}) {msg}".rstrip(), reason=reason,
                            hint=ACCOUNT_HINTS[reason], **kw)
    if dialect == "v2" and status == 400:
        return AmbiguousRefusal(f"{what}: HTTP 400 {msg} (rate limit or invalid request)".rstrip(), **kw)
    return None


def _by_business_code(code: Optional[str], what: str, msg: str, kw: dict[str, Any]) -> Optional[ApiError]:
    kw = dict(kw, code=code)
    if code == V1_OK:
        return None
    if code == "0429":
        return RateLimited(f"{what}: rate limit exceeded (0429)", **kw)
    if code in ACCOUNT_CODES:
        reason = ACCOUNT_CODES[code]
        return AccountError(f"{what}: account problem ({reason}, {code}) {msg}".rstrip(), reason=reason,
                            hint=ACCOUNT_HINTS[reason], **kw)
    if code == "0001":  # bad parameters, yet the vendor's own examples retry it
        return AmbiguousRefusal(f"{what}: refused (0001) {msg}".rstrip(), **kw)
    if code == "0003":
        return PermanentError(f"{what}: refused (0003) {msg}".rstrip(), **kw)
    if code == "0409":  # "duplicate operation": the same request may already be in progress
        return UnknownOutcome(f"{what}: the server reports a duplicate operation (0409)", **kw)
    return TransientError(f"{what}: unexpected answer code {code!r} {msg}".rstrip(), **kw)
