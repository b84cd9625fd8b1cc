"""The life of a file in the ledger: states and the transitions between them. Pure.

    discovered ─► ready ─► uploading ─► uploaded ─► confirmed ──(check --fix)──► ready
        │           │          │  ▲         │
        │           │          ▼  │         ▼
        └──────┬────┴──────► rejected    failed ──(retry)──► ready
               ▼
            vanished ──(reappears)──► discovered

A worker claims a `ready` row (its attempt counted) and the row says `uploading` only
once the request's body starts leaving: so an attempt that never reached the server goes
`ready` → `ready` (try later), `failed` (attempts used up) or `uploaded` (an earlier
upload found by its tag); `uploading` → `ready` is a retry after an error in flight,
`uploading` → `uploading` an attempt resumed after a crash (its outcome unknown: videos
are looked up first); `uploading` → `confirmed` skips `uploaded` for targets whose answer
is final (image ids, synchronous security results). `confirmed` is final but for one move:
`mavi-sync check --fix` found the server no longer holds it (gone, or FAILED there) and sends
it again. Illegal moves raise IllegalTransition.
"""

from __future__ import annotations

from enum import Enum

from mavi_sync.errors import IllegalTransition


class State(str, Enum):
    DISCOVERED = "discovered"  # hashed, not yet probed (rows from before registration became one write)
    READY = "ready"  # probed, accepted, waiting for an upload slot (or its next attempt time)
    UPLOADING = "uploading"  # a request's body left (or was leaving, before a crash): outcome unknown
    UPLOADED = "uploaded"  # the server returned an id; following its remote status
    CONFIRMED = "confirmed"  # the remote side holds it (final)
    REJECTED = "rejected"  # refused by our checks or by the server, with a reason
    FAILED = "failed"  # retries used up, or the remote processing failed
    VANISHED = "vanished"  # the file disappeared before it was uploaded


S = State
_ALLOWED: dict[State, frozenset[State]] = {
    S.DISCOVERED: frozenset({S.READY, S.REJECTED, S.VANISHED}),
    S.READY: frozenset({S.UPLOADING, S.REJECTED, S.VANISHED, S.READY, S.FAILED, S.UPLOADED, S.CONFIRMED}),
    S.UPLOADING: frozenset({S.UPLOADING, S.UPLOADED, S.CONFIRMED, S.READY, S.FAILED, S.REJECTED, S.VANISHED}),
    S.UPLOADED: frozenset({S.UPLOADED, S.CONFIRMED, S.FAILED}),
    S.CONFIRMED: frozenset({S.READY}),  # only by `check --fix`: the server lost it
    S.REJECTED: frozenset({S.READY, S.DISCOVERED}),
    S.FAILED: frozenset({S.READY, S.DISCOVERED}),
    S.VANISHED: frozenset({S.DISCOVERED, S.READY}),
}

FINAL = frozenset({S.CONFIRMED, S.REJECTED, S.FAILED, S.VANISHED})
PENDING = frozenset({S.DISCOVERED, S.READY, S.UPLOADING, S.UPLOADED})


def allowed(src: State, dst: State) -> bool:
    """True when the state machine permits src → dst."""
    return dst in _ALLOWED[src]


def check_transition(src: State, dst: State) -> None:
    """Raise IllegalTransition unless src → dst is permitted."""
    if not allowed(src, dst):
        raise IllegalTransition(f"illegal state change {src.value} → {dst.value}")
