"""v2 answers HTTP 400 "Request has exceeded the limit." both for rate limits and for some
refusals. A valid asset that meets it for a while is uploaded once the limit lifts, never
refused after three tries in seconds; one that meets it on every attempt is refused after
`max_attempts`, the reason saying why."""

from __future__ import annotations

from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.emulator.admin import Admin
from tests.e2e.rig import until

V2 = "/serve/api/v2/upload"


def test_a_valid_asset_survives_a_long_v2_limit(spawn, emulator, admin: Admin) -> None:
    d = spawn(emulator.url, target="asset", uploads="max_attempts = 4\n")
    admin.faults(v2_limit_as_400=True)
    admin.script({"path": V2, "action": "rate_limit", "count": 7})  # more than one attempt's three tries
    d.start()
    write_video(d.camera / "clip.mp4", VideoSpec(seconds=1))
    until(lambda: d.count("confirmed") == 1, 60)
    [row] = d.ledger_rows()
    assert row["attempts"] >= 3 and row["state"] == "confirmed", row
    assert len(admin.uploads("asset")) == 1
    assert d.stop() == 0


def test_an_asset_limited_on_every_attempt_is_refused_after_max_attempts(spawn, emulator, admin: Admin) -> None:
    d = spawn(emulator.url, target="asset", uploads="max_attempts = 2\n")
    admin.faults(v2_limit_as_400=True)
    admin.script({"path": V2, "action": "rate_limit", "count": 1000})
    d.start()
    write_video(d.camera / "clip.mp4", VideoSpec(seconds=1))
    until(lambda: d.count("rejected") == 1, 60)
    [row] = d.ledger_rows()
    assert row["attempts"] == 2 and "all 2 attempts" in row["error"] and "exceeded the limit" in row["error"]
    assert admin.uploads("asset") == []
    assert d.stop() == 0
    # One line per attempt: the first one's retry, then the refusal itself, with its reason.
    lines = [(e["event"], e["attempt"]) for e in d.events("upload_retrying") + d.events("media_rejected")]
    assert sorted(lines) == [("media_rejected", 2), ("upload_retrying", 1)], lines
    [refused] = d.events("media_rejected")
    assert refused["path"] == str(d.camera / "clip.mp4") and "all 2 attempts" in refused["reason"], refused
