"""What the owner is told: caption words match as whole words; each notice names what
happened and what to do, and no more than ten paths."""

from __future__ import annotations

import time

from mavi_sync.owner import alerts


def test_caption_words_match_whole_words_in_any_case_and_phrases() -> None:
    text = "A person walks to the Vehicle; personal items. Someone named Anna Lee waves."
    assert alerts.matched_words(text, ["person", "vehicle", "item", "anna lee", "car"]) == [
        "person", "vehicle", "anna lee"]
    assert alerts.matched_words(text, []) == []


def test_an_account_notice_says_why_and_what_to_do() -> None:
    n = alerts.account_paused("box", "no_credits", "upload of a.mp4: account problem", "Add credits.")
    assert n.event == "account" and n.level == "failure"
    assert n.title == "mavi-sync on box: uploads paused (the account has no credits left)"
    assert "Add credits." in n.body and "Nothing is lost" in n.body
    back = alerts.account_resumed("box", "no_credits", time.time() - 3700, time.time())
    assert back.level == "success" and "1 h 01 min" in back.body


def test_a_failure_notice_lists_ten_paths_and_counts_the_rest() -> None:
    n = alerts.files_failed("box", [(f"/cam/{i}.mp4", "HTTP 500") for i in range(13)])
    assert n.title.endswith("13 files failed")
    assert n.body.count("/cam/") == 10 and "… and 3 more" in n.body


def test_the_digest_names_counts_reasons_and_the_oldest_waiting_file() -> None:
    now = time.time()
    report = {"since": now - 86400, "uploaded": 12, "bytes": 340_000_000, "refused": 3,
              "refused_reasons": [("HEVC 10-bit is not taken", 2), ("too large", 1)], "failed": 1,
              "failed_files": [("/cam/x.mp4", "HTTP 500")], "pending": 4,
              "oldest_pending": {"since": now - 2 * 86400, "path": "/cam/old.mp4"}}
    n = alerts.digest("box", report, now)
    assert "- uploaded: 12 file(s), 340.0 MB" in n.body and "2 × HEVC 10-bit is not taken" in n.body
    assert "/cam/x.mp4: HTTP 500" in n.body and "the oldest for 2 days: /cam/old.mp4" in n.body
    assert n.level == "warning"
