"""Every answer dialect → the right error class (the pure core of the client's error handling)."""

from __future__ import annotations

import pytest

from mavi_sync.api.classify import classify, normalise_code, parse_retry_after
from mavi_sync.errors import (
    AccountError,
    AmbiguousRefusal,
    PermanentError,
    RateLimited,
    SignedUrlExpired,
    TransientError,
    UnknownOutcome,
)


def v1(code: object, msg: str = "m") -> dict[str, object]:
    return {"code": code, "msg": msg, "data": None}


@pytest.mark.parametrize("dialect,status,body,expected", [
    ("v1", 200, v1("0000"), None),
    ("security", 200, v1(0), None),
    ("security", 200, v1("0000"), None),
    ("v1", 200, v1("0429", "Request has exceeded the limit."), RateLimited),
    ("v1", 200, v1("0401"), AccountError),
    ("v1", 200, v1("0402"), AccountError),
    ("v1", 200, v1("0403"), AccountError),
    ("v1", 200, v1("9009"), AccountError),
    ("v1", 200, v1("0001"), AmbiguousRefusal),
    ("v1", 200, v1("0003"), PermanentError),
    ("v1", 200, v1("0409"), UnknownOutcome),
    ("v1", 200, v1("7777"), TransientError),
    ("v1", 200, None, TransientError),  # HTML from a proxy
    ("v1", 502, None, TransientError),
    ("v1", 429, None, RateLimited),
    ("v1", 401, None, AccountError),
    ("v1", 404, None, PermanentError),
    ("v2", 200, {"code": 200, "data": {}}, None),
    ("v2", 400, {"code": 400, "msg": "Request has exceeded the limit."}, AmbiguousRefusal),
    ("v2", 401, {"code": 401}, AccountError),
    ("v2", 402, {"code": 402}, AccountError),
    ("v2", 403, {"code": 403}, AccountError),
    ("v2", 415, {"code": 415}, PermanentError),
    ("v2", 429, {"code": 429}, RateLimited),
    ("v2", 500, {"code": 500}, TransientError),
    ("v2", 200, {"code": 429, "msg": "too fast"}, RateLimited),  # an error inside a 200
    ("storage", 204, None, None),
    ("storage", 403, None, SignedUrlExpired),
    ("storage", 503, None, TransientError),
    ("storage", 413, None, PermanentError),
])
def test_classify(dialect: str, status: int, body: object, expected: type | None) -> None:
    error = classify(dialect, status, body, what="upload")
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected, error


def test_account_errors_say_why_and_what_to_do() -> None:
    error = classify("v1", 200, v1("0402", "Insufficient credits."), what="video upload")
    assert isinstance(error, AccountError) and error.reason == "no_credits"
    assert "Top up" in error.hint and "Insufficient credits." in str(error)
    assert classify("v2", 401, {"code": 401}).reason == "bad_key"  # type: ignore[union-attr]


def test_server_message_and_codes_are_kept() -> None:
    error = classify("v1", 200, v1("0003", "datetime_taken is invalid"), what="video upload of a.mp4")
    assert error is not None and error.code == "0003" and error.status == 200
    assert error.server_message == "datetime_taken is invalid"
    assert str(error) == "video upload of a.mp4: refused (0003) datetime_taken is invalid"


def test_retry_after_travels_with_the_error() -> None:
    error = classify("v2", 429, {"code": 429}, retry_after=7.0)
    assert error is not None and error.retry_after == 7.0


@pytest.mark.parametrize("raw,expected", [(0, "0000"), ("0", "0000"), ("0000", "0000"), (429, "0429"),
                                          ("0429", "0429"), (None, None), ("E12", "E12"), (True, None)])
def test_normalise_code(raw: object, expected: str | None) -> None:
    assert normalise_code(raw) == expected


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_unknown_dialect_is_a_bug() -> None:
    with pytest.raises(ValueError):
        classify("v3", 200, None)
