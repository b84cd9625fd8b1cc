"""`mavi-sync check [--fix]`: does the server still hold what the ledger says it does? In the
spirit of `rclone check`: both sides compared, differences listed, an exit code for cron.

The ledger's video rows are read first, then each namespace is listed (paged, within the
query rate limit: the client's limiter paces every page). A row confirmed before the
listing began must be in it: by its remote id, or as another video carrying its `sha256:`
tag (an upload adopted or sent again). Compared:

- missing there: confirmed here, neither its id nor its tag listed;
- FAILED there: listed, but processing failed and no other copy is whole;
- unknown here: a listed video whose `sha256:` tag no row of this ledger holds (looked up
  again after the listing: an upload that ended meanwhile is known by then).

Only videos can be checked: no endpoint lists images, security clips or v2 assets; their
rows are counted as not checkable. `--fix` queues missing and FAILED rows again when a
watched path still holds their file (the daemon, or the next `sync`, sends them).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from mavi_sync.api.client import Client
from mavi_sync.errors import ClaimLost
from mavi_sync.find.listing import PAGE_SIZE, Listing, OnPage, list_all, sha_of
from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State

UNLISTABLE = ("image", "security", "asset")  # no endpoint lists them


@dataclass(frozen=True)
class Problem:
    kind: str  # "missing", "failed", "unknown"
    namespace: str
    sha256: Optional[str]
    video_no: Optional[str]  # the ledger's id (missing, failed) or the server's (unknown)
    file_id: Optional[int] = None
    detail: str = ""


@dataclass
class Report:
    checked: int = 0  # confirmed video rows compared
    ok: int = 0
    problems: list[Problem] = field(default_factory=list)
    elsewhere: int = 0  # held by the server under another id than the ledger's (by its tag)
    pending: int = 0  # rows still being uploaded or processed: not judged
    untagged: int = 0  # listed videos without a sha256: tag (not sent by mavi-sync, or video_sha_tag off)
    duplicates: int = 0  # contents the server holds more than once
    repeats: int = 0  # videos the listing gave twice
    not_checkable: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    queued: int = 0
    no_copy: int = 0  # missing or failed there, but no watched path holds the file any more

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    @property
    def exit_code(self) -> int:
        """0: the ledger and the server agree; 1: differences found (whether or not --fix queued them)."""
        return 1 if self.problems else 0

    def summary(self, fixing: bool = False) -> str:
        """One line for cron and notifications."""
        line = (f"check: {self.checked} confirmed video(s) compared: {self.ok} ok, {self.count('missing')} missing "
                f"there, {self.count('failed')} FAILED there, {self.count('unknown')} there but unknown here")
        if fixing:
            line += f"; {self.queued} queued again, {self.no_copy} with no copy left here"
        skipped = ", ".join(f"{n} {t}" for t, n in sorted(self.not_checkable.items()) if n)
        if skipped:
            line += f"; not checkable (no endpoint lists them): {skipped}"
        return line + f"; {self.requests} request(s) in {self.seconds:.1f} s"

    def as_json(self) -> dict[str, Any]:
        return {"checked": self.checked, "ok": self.ok, "missing": self.count("missing"),
                "failed_there": self.count("failed"), "unknown_here": self.count("unknown"),
                "held_under_another_id": self.elsewhere, "pending": self.pending, "untagged": self.untagged,
                "duplicates": self.duplicates, "listed_twice": self.repeats, "not_checkable": self.not_checkable,
                "requests": self.requests, "seconds": round(self.seconds, 3), "queued": self.queued,
                "no_copy_here": self.no_copy, "problems": [vars(p) for p in self.problems]}


def check(ledger: Ledger, client: Client, namespaces: Iterable[str], *, fix: bool = False,
          page_size: int = PAGE_SIZE, on_page: Optional[OnPage] = None) -> Report:
    """Compare the ledger's video rows with the server's listing; `fix` queues again what is lost."""
    started = time.monotonic()
    report = Report()
    rows = ledger.remote_rows("video")  # before the listing: every row confirmed here must be there
    counts = ledger.counts()
    report.not_checkable = {t: sum(n for (s, tt), n in counts.items() if tt == t) for t in UNLISTABLE}
    spaces = sorted(set(namespaces) | {r[2] for r in rows})
    listings = {ns: list_all(client, ns, page_size=page_size, on_page=on_page) for ns in spaces}
    report.requests = sum(x.requests for x in listings.values())
    report.repeats = sum(x.repeats for x in listings.values())
    held = {(r[2], r[1]) for r in rows}
    for ns, listing in listings.items():
        _compare(report, ns, listing, [r for r in rows if r[2] == ns], held, ledger)
    if fix:
        _fix(ledger, report)
    report.seconds = time.monotonic() - started
    return report


def _compare(report: Report, ns: str, listing: Listing, rows: list[Any], held: set[tuple[str, str]],
             ledger: Ledger) -> None:
    by_sha: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for video in listing.videos.values():
        sha = sha_of(video)
        if sha is None:
            report.untagged += 1
        else:
            by_sha[sha].append(video)
    report.duplicates += sum(1 for copies in by_sha.values() if len(copies) > 1)
    for file_id, sha, _ns, state, remote_id, _attempts, _at in rows:
        if state is not State.CONFIRMED:
            if state in (State.UPLOADING, State.UPLOADED):
                report.pending += 1
            continue
        report.checked += 1
        listed = listing.videos.get(remote_id) if remote_id else None
        whole = [v for v in by_sha.get(sha, ()) if str(v.get("status") or "").upper() != "FAILED"]
        if listed is not None and str(listed.get("status") or "").upper() != "FAILED":
            report.ok += 1
        elif whole:
            report.ok += 1
            report.elsewhere += 1
        elif listed is not None:
            report.problems.append(Problem("failed", ns, sha, remote_id, file_id, str(listed.get("cause") or "")))
        else:
            report.problems.append(Problem("missing", ns, sha, remote_id, file_id))
    for sha, copies in by_sha.items():
        if (ns, sha) not in held and ledger.get(sha, "video", ns) is None:
            report.problems += [Problem("unknown", ns, sha, str(v.get("video_no")), None,
                                        str(v.get("video_name") or "")) for v in copies]


def _fix(ledger: Ledger, report: Report) -> None:
    """Queue again each row the server lost whose file a watched path still holds."""
    for p in report.problems:
        if p.kind == "unknown" or p.file_id is None:
            continue
        record = ledger.get_by_id(p.file_id)
        if record is None or record.state is not State.CONFIRMED:
            continue
        if ledger.path_of(p.file_id) is None:
            report.no_copy += 1
            continue
        why = "FAILED there" if p.kind == "failed" else "no longer there"
        try:
            ledger.transition(p.file_id, State.READY, expect=(State.CONFIRMED, record.attempts), remote_id=None,
                              remote_status=None, attempts=0, next_attempt_at=None, lookup_due=0, polls=0,
                              next_poll_at=None, last_error=f"mavi-sync check: {why} (was {p.video_no}); sent again")
        except ClaimLost:  # moved on meanwhile: not ours to queue
            continue
        report.queued += 1
