"""The error tree: one root, shallow branches, each carrying a hint for the user.

Third-party exceptions are wrapped at the module that calls the library, so
nothing above that boundary needs to know about PIL, av, sqlite3 or requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


class MaviSyncError(Exception):
    """Root of every error mavi-sync raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config: where, what was found, what was expected."""

    key: str
    value: object
    expected: str

    def __str__(self) -> str:
        return f"{self.key} = {_show(self.value)}: {self.expected}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(MaviSyncError):
    """The config cannot be used; `problems` lists every reason at once."""

    hint = "Fix the listed keys, then run: mavi-sync check-config PATH"

    def __init__(self, problems: list[Problem], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n{lines}")


class SecretError(MaviSyncError):
    """An API key could not be found or read (the message never holds the key)."""


class LedgerError(MaviSyncError):
    """The ledger file cannot be opened, migrated or written."""

    hint = "Check the ledger path and free disk space; the ledger is never modified on error."


class FleetUnavailable(MaviSyncError):
    """The fleet's PostgreSQL database cannot be reached or refused a statement. The message
    names the host and database, never the password."""

    hint = "Each node works on its own share of the rate budget meanwhile; check the database and its role."


class IllegalTransition(MaviSyncError):
    """A state change the state machine does not allow (a bug, not a user error). Not a
    LedgerError: a bug must never pause intake as "ledger unwritable"."""

    hint = "This is a bug in mavi-sync; please report it with the log lines around it."


class ClaimLost(MaviSyncError):
    """Another worker or process took this file first (its state moved since it was read)."""

    hint = "Nothing to do: the other one uploads it."


class ConversionError(MaviSyncError):
    """A file could not be converted into what its endpoint takes (a HEIC photo to JPEG):
    the file is refused with this reason, and left untouched."""

    hint = "The reason says what failed; `mavi-sync inspect FILE` shows the conversion."


class FileChanged(MaviSyncError):
    """The local file changed (size or mtime moved) while it was being sent."""

    hint = "The file is still being written; it will be sent again once it has settled."


class ApiError(MaviSyncError):
    """memories.ai (or the network on the way) did not take a request.

    Subclasses say what to do about it; `status`/`code` are the HTTP status and the
    business code when there was an answer, `server_message` is the server's own words.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 server_message: str = "", retry_after: Optional[float] = None, hint: str = "") -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.server_message = server_message
        self.retry_after = retry_after


class TransientError(ApiError):
    """Worth trying again later: connection errors, timeouts, 5xx, rate limits."""

    hint = "mavi-sync retries by itself with a growing delay."


class RateLimited(TransientError):
    """The account's request rate was exceeded (v1 `0429`, HTTP 429)."""


class Unreachable(TransientError):
    """The API host refused or did not take the connection: an outage, nobody's file at fault."""

    hint = "mavi-sync pauses uploads and probes the API with a growing interval until it answers."


class AmbiguousRefusal(RateLimited):
    """An answer that means either "too fast" or "invalid" (v2 400 "Request has exceeded
    the limit.", v1 `0001`). The file passed mavi-sync's own checks for the endpoint, so it
    is taken for a rate limit (the pace slows down; the file backs off like any failed
    attempt) until `max_attempts` attempts got nothing else: then it is refused, the reason
    saying so (outcome.py)."""


class Interrupted(TransientError):
    """A stop request ended the wait for a rate-limit slot: the request never left."""

    hint = "Nothing was sent; the file is tried again on the next start."


class Held(Interrupted):
    """Uploads may not go now (outside an upload window, paused by hand): an upload in
    flight is cut off, and sent again, its attempt given back, once they may."""

    hint = "It is sent again when the window opens or uploads are resumed (mavi-sync resume)."


class StagingFull(TransientError):
    """No room in the staging area for a conversion now: it is tried again later."""

    hint = "Raise [uploads] staging_max_mb, or free the state directory's disk."


class UnknownOutcome(TransientError):
    """The request was sent in full but no answer came: the server may hold the file."""


class SignedUrlExpired(TransientError):
    """The storage host refused a signed URL that had expired; a new one is needed."""


class AccountError(ApiError):
    """The account cannot upload at all (bad key, out of credits, disabled): pause every upload."""

    key = "API key"  # the key the request carried (the client says "security API key" for the security host's)

    def __init__(self, message: str, *, reason: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason  # "bad_key", "no_credits", "disabled", "permission"


class PermanentError(ApiError):
    """The server refused this file for good (validation); the file is recorded as rejected."""

    hint = "The server's message says why; the file is left untouched."
