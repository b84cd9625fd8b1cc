"""The one retry policy: what is retried, how long it waits, when it stops."""

from __future__ import annotations

import threading

import pytest

from mavi_sync.api.retry import RetryPolicy, backoff_s, call, wait_s
from mavi_sync.errors import AccountError, AmbiguousRefusal, PermanentError, RateLimited, TransientError

QUICK = RetryPolicy(attempts=4, initial_s=0.001, max_s=0.004)


class Flaky:
    """Fails with `errors` in turn, then returns "ok"; counts its calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_backoff_grows_to_the_cap_with_jitter() -> None:
    assert backoff_s(1, 10, 3600, rand=lambda: 1.0) == 10
    assert backoff_s(3, 10, 3600, rand=lambda: 1.0) == 40
    assert backoff_s(30, 10, 3600, rand=lambda: 1.0) == 3600
    assert backoff_s(3, 10, 3600, rand=lambda: 0.0) == 20  # jitter keeps at least half the step


def test_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(initial_s=1, max_s=2, retry_after_cap_s=60)
    assert wait_s(policy, 1, RateLimited("x", retry_after=30)) == 30
    assert wait_s(policy, 1, RateLimited("x", retry_after=9999)) == 60
    assert wait_s(policy, 1, TransientError("x")) <= 1
    # A bare "too fast": no backoff on top, the penalised shared limiter paces the retry.
    assert wait_s(policy, 3, RateLimited("x")) == 0.0


def test_transient_errors_are_retried_until_success() -> None:
    fn = Flaky(TransientError("a"), RateLimited("b"))
    seen: list[tuple[int, str]] = []
    assert call(fn, QUICK, on_retry=lambda n, wait, exc: seen.append((n, str(exc)))) == "ok"
    assert fn.calls == 3 and seen == [(1, "a"), (2, "b")]


def test_the_last_transient_error_is_raised_when_tries_run_out() -> None:
    fn = Flaky(*[TransientError(str(i)) for i in range(10)])
    with pytest.raises(TransientError, match="^3$"):
        call(fn, QUICK)
    assert fn.calls == 4


@pytest.mark.parametrize("error", [AccountError("k", reason="bad_key"), PermanentError("p"), ValueError("bug")])
def test_account_permanent_and_unexpected_errors_are_not_retried(error: BaseException) -> None:
    fn = Flaky(error)
    with pytest.raises(type(error)):
        call(fn, QUICK)
    assert fn.calls == 1


def test_an_ambiguous_refusal_that_persists_stays_a_rate_limit_for_the_file_to_back_off() -> None:
    """Issue 16: refused only after the file's own attempts (outcome.py), never within one."""
    fn = Flaky(*[AmbiguousRefusal("HTTP 400 Request has exceeded the limit.", status=400) for _ in range(5)])
    with pytest.raises(AmbiguousRefusal) as info:
        call(fn, QUICK)
    assert fn.calls == 4 and info.value.status == 400 and isinstance(info.value, RateLimited)


def test_an_ambiguous_refusal_that_clears_is_just_a_rate_limit() -> None:
    assert call(Flaky(AmbiguousRefusal("400")), QUICK) == "ok"


def test_stop_ends_the_retries() -> None:
    stop = threading.Event()
    stop.set()
    fn = Flaky(*[TransientError("down") for _ in range(5)])
    with pytest.raises(TransientError):
        call(fn, RetryPolicy(attempts=5, initial_s=60, max_s=60), stop=stop)
    assert fn.calls == 1
