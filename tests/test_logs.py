"""Logs: JSON lines off a TTY, and no key ever reaches a line."""

from __future__ import annotations

import io
import json
import logging

from mavi_sync.logs import configure, get_logger, redact

KEY = "sk-mavi-LOGTESTKEY0123456789"


def test_json_lines_with_keys_scrubbed() -> None:
    stream = io.StringIO()
    configure("debug", json=True, stream=stream)
    try:
        get_logger().info("upload_failed", path="/x.mp4", error=f"401 for key {KEY}")
        logging.getLogger("urllib3").warning("header Authorization: %s", KEY)
        try:
            raise RuntimeError(f"boom {KEY}")
        except RuntimeError as exc:
            get_logger().error("upload_failed", error=exc)
    finally:
        configure("warning", stream=io.StringIO())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines][0] == "upload_failed"
    assert lines[0]["path"] == "/x.mp4" and lines[0]["level"] == "info" and "timestamp" in lines[0]
    assert KEY not in stream.getvalue()
    assert "sk-***" in stream.getvalue()


def test_redact() -> None:
    assert redact(f"a {KEY} b sk-mai-OLDERKEY99") == "a sk-*** b sk-***"
    assert redact("sk-mavi-") == "sk-mavi-"


def test_repeated_identical_errors_are_logged_once_per_window() -> None:
    import structlog

    from mavi_sync.logs import RepeatFilter
    now = [0.0]
    flt = RepeatFilter(window_s=60, clock=lambda: now[0])

    def passes(event: str, error: str, level: str = "error") -> bool:
        try:
            flt(None, level, {"event": event, "error": error})
            return True
        except structlog.DropEvent:
            return False

    assert passes("upload_retrying", "cannot reach host")
    assert not passes("upload_retrying", "cannot reach host")
    assert passes("upload_retrying", "HTTP 503")  # another error is news
    assert passes("upload_retrying", "cannot reach host", level="info")  # info is never dropped
    now[0] = 61.0
    event = {"event": "upload_retrying", "error": "cannot reach host"}
    assert flt(None, "error", event)["repeated"] == 1


def test_per_file_lines_are_never_swallowed_only_true_repeats_are() -> None:
    """Four rejected files with the same reason are four lines; the same line again is not."""
    import structlog

    from mavi_sync.logs import RepeatFilter
    flt = RepeatFilter(window_s=60, clock=lambda: 0.0)

    def passes(**event: object) -> bool:
        try:
            flt(None, "warning", {"timestamp": "t", **event})
            return True
        except structlog.DropEvent:
            return False

    reason = "not a readable MP4 file (moov atom not found)"
    assert all(passes(event="media_rejected", reason=reason, path=f"/cam/clip{i}.mp4") for i in range(4))
    assert not passes(event="media_rejected", reason=reason, path="/cam/clip0.mp4")
    assert passes(event="media_rejected", reason=reason, path="/cam/clip0.mp4", sha256="b" * 64)


def test_lines_from_structlog_and_stdlib_threads_never_share_a_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Seen on a fresh clone: watchdog's stdlib debug line landed between a structlog line
    and its newline, leaving two JSON objects on one journal line. Both now write whole
    lines under one lock: every line of a busy log file parses."""
    import json
    import logging
    import threading
    import time

    from mavi_sync.logs import configure, get_logger

    out = tmp_path / "daemon.log"
    class Pipe:  # a real file whose writes let other threads run, as a full pipe to journald does
        def __init__(self, fh) -> None:  # type: ignore[no-untyped-def]
            self.fh = fh

        def write(self, text: str) -> int:
            time.sleep(0)
            return int(self.fh.write(text))

        def flush(self) -> None:
            self.fh.flush()

        def isatty(self) -> bool:
            return False

    with open(out, "w", encoding="utf-8") as fh:
        configure("debug", json=True, stream=Pipe(fh))  # type: ignore[arg-type]
        log, std = get_logger("t"), logging.getLogger("watchdog.observers")

        def ours(n: int) -> None:
            for i in range(400):
                log.info("file_archived", path=f"/cam/{n}/{i}.jpg", dest="/archive/" + "x" * 200)

        def theirs() -> None:
            for i in range(800):
                std.debug("in-event %s", "/cam/" + "y" * 150 + str(i))

        threads = [threading.Thread(target=ours, args=(n,)) for n in range(2)] + [threading.Thread(target=theirs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1600 and all(json.loads(line)["event"] for line in lines)
    configure("info")


def test_the_last_events_are_kept_for_the_status_page_bounded_and_scrubbed() -> None:
    from mavi_sync.logs import Recent, recent
    configure("debug", json=True, stream=io.StringIO())
    try:
        get_logger().debug("too_fine", path="/a")
        get_logger().info("upload_failed", path="/x.mp4", error=f"401 for key {KEY} " + "x" * 1000, attempt=2)
        last = recent.last(1)[0]
        assert last["event"] == "upload_failed" and last["level"] == "info" and last["attempt"] == 2
        assert KEY not in last["error"] and "sk-***" in last["error"] and len(last["error"]) == 300
        assert all(e["event"] != "too_fine" for e in recent.last(100))
    finally:
        configure("warning", stream=io.StringIO())
    ring = Recent(size=3)
    for i in range(10):
        ring(None, "info", {"event": f"e{i}"})
    assert [e["event"] for e in ring.last(30)] == ["e9", "e8", "e7"]
