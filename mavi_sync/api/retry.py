"""The one retry policy: which errors are retried, how long to wait, when to give up.

Used in two places with the same arithmetic: in-process around each request
(`call`, a few quick tries), and by the uploader for the next attempt time it
stores in the ledger (`backoff_s`), so backoff survives restarts.
requests' own retries are off (transport.py); nothing else retries.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

import tenacity

from mavi_sync.errors import ApiError, Interrupted, RateLimited, TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries per request, in-process
    initial_s: float = 1.0
    max_s: float = 30.0
    retry_after_cap_s: float = 300.0  # never trust a Retry-After longer than this


def backoff_s(attempt: int, initial_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """Delay before try `attempt + 1`: exponential from `initial_s`, capped at `max_s`, with
    jitter (50–100 % of the step) so that workers and restarted daemons do not synchronise."""
    step = min(max_s, initial_s * (2 ** max(0, attempt - 1)))
    return step * (0.5 + rand() / 2)


def retryable(exc: BaseException) -> bool:
    """Transient API errors are retried; account and permanent errors are not, nor a request
    that a stop or a hold (an upload window closing) cut off: it waits for its next turn."""
    return isinstance(exc, TransientError) and not isinstance(exc, Interrupted)


def wait_s(policy: RetryPolicy, attempt: int, exc: Optional[BaseException]) -> float:
    """Retry-After when the server gave one (capped); nothing for a bare "too fast", because
    the shared rate limiter, penalised by that answer, paces the retry (a backoff on top
    would leave the account's budget unused); else the backoff."""
    if isinstance(exc, ApiError) and exc.retry_after is not None:
        return min(exc.retry_after, policy.retry_after_cap_s)
    if isinstance(exc, RateLimited):
        return 0.0
    return backoff_s(attempt, policy.initial_s, policy.max_s)


def call(fn: Callable[[], T], policy: RetryPolicy, *, stop: Optional[threading.Event] = None,
         on_retry: Optional[Callable[[int, float, BaseException], None]] = None) -> T:
    """Run `fn`, retrying transient errors per `policy`; raise the last error when tries run out
    or `stop` is set. An ambiguous refusal is a rate limit here; the file's attempts decide
    when it is one no longer (outcome.py)."""
    stop = stop or threading.Event()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry and state.outcome is not None and state.next_action is not None:
            on_retry(state.attempt_number, state.next_action.sleep, state.outcome.exception())

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(retryable),
        stop=tenacity.stop_after_attempt(policy.attempts) | tenacity.stop_when_event_set(stop),
        wait=lambda state: wait_s(policy, state.attempt_number,
                                  state.outcome.exception() if state.outcome else None),
        sleep=stop.wait,  # a stop request ends the wait at once
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
