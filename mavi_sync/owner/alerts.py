"""What the owner is told, as text: one `Notice` per episode (an account pause and its end,
a long outage and its end, a ledger that cannot be written, files that failed for good, the
daily digest, a security caption that names a watched word). Pure: oversight.py decides
when, courier.py delivers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional, Sequence

REASONS = {
    "bad_key": "the API key is refused",
    "no_key": "no API key is configured where mavi-sync looks",
    "no_credits": "the account has no credits left",
    "disabled": "the account is disabled",
}
MAX_LISTED = 10  # paths named in one notice; the rest are counted


@dataclass(frozen=True)
class Notice:
    event: str  # one of config.schema.NOTIFY_EVENTS: which targets want it
    title: str
    body: str
    level: str = "warning"  # Apprise's notify type: info, success, warning, failure


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min" if minutes else f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def account_paused(host: str, reason: str, detail: str, hint: str) -> Notice:
    what = REASONS.get(reason, reason)
    return Notice("account", f"mavi-sync on {host}: uploads paused ({what})",
                  f"Uploads are paused because {what}.\n{detail}\n\n{hint}\n"
                  "Nothing is lost: files wait and are sent once it is fixed.", "failure")


def account_resumed(host: str, reason: str, since: float, now: float) -> Notice:
    return Notice("account", f"mavi-sync on {host}: uploads resumed",
                  f"Uploads go again after {_ago(now - since)} paused ({REASONS.get(reason, reason)}).", "success")


def outage_began(host: str, since: float, now: float, detail: str) -> Notice:
    return Notice("outage", f"mavi-sync on {host}: memories.ai unreachable for {_ago(now - since)}",
                  f"The API has not answered since {_when(since)}.\nLast error: {detail}\n\n"
                  "Uploads wait and are tried again; nothing is marked failed because of it.", "failure")


def outage_ended(host: str, since: float, now: float) -> Notice:
    return Notice("outage", f"mavi-sync on {host}: memories.ai reachable again",
                  f"The API answers again after an outage of {_ago(now - since)}; the backlog is being sent.",
                  "success")


def ledger_unwritable(host: str, detail: str) -> Notice:
    return Notice("ledger", f"mavi-sync on {host}: cannot write its ledger",
                  f"{detail}\n\nFree disk space or make the ledger writable: intake resumes by itself, and "
                  "files not recorded yet are found again.", "failure")


def ledger_writable(host: str, since: float, now: float) -> Notice:
    return Notice("ledger", f"mavi-sync on {host}: ledger writable again",
                  f"The ledger takes writes again after {_ago(now - since)}.", "success")


def files_failed(host: str, failures: Sequence[tuple[str, str]]) -> Notice:
    """`failures`: (path, last error) of each file that failed for good since the last notice."""
    lines = [f"- {path}: {error}" for path, error in failures[:MAX_LISTED]]
    if len(failures) > MAX_LISTED:
        lines.append(f"… and {len(failures) - MAX_LISTED} more (mavi-sync ledger --state failed)")
    count = len(failures)
    return Notice("failed", f"mavi-sync on {host}: {count} file{'s' if count > 1 else ''} failed",
                  "Every attempt failed for:\n" + "\n".join(lines) +
                  "\n\nThey are tried again after the cool-down, or now with `mavi-sync retry`.", "failure")


def digest(host: str, report: dict[str, Any], now: float) -> Notice:
    """The daily digest from Ledger.digest's report."""
    lines = [f"Since {_when(report['since'])}:",
             f"- uploaded: {report['uploaded']} file(s), {report['bytes'] / 1e6:.1f} MB",
             f"- refused: {report['refused']}"]
    lines += [f"    {n} × {reason}" for reason, n in report["refused_reasons"]]
    lines.append(f"- failed: {report['failed']}")
    lines += [f"    {path}: {error}" for path, error in report["failed_files"]]
    oldest = report.get("oldest_pending")
    lines.append(f"- waiting: {report['pending']}" + (
        f", the oldest for {_ago(now - oldest['since'])}: {oldest['path']}" if oldest else ""))
    level = "warning" if report["failed"] or (oldest and now - oldest["since"] > 86400) else "info"
    return Notice("digest", f"mavi-sync on {host}: daily digest", "\n".join(lines), level)


def matched_words(text: str, words: Sequence[str]) -> list[str]:
    """The configured words `text` holds as whole words, any case ("person" matches "Person,"
    not "personal"); a word of several words matches as a phrase."""
    return [w for w in words if re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", text, re.IGNORECASE)]


def caption_matched(host: str, path: Optional[str], text: str, words: Sequence[str]) -> Notice:
    return Notice("caption", f"mavi-sync on {host}: {', '.join(words)} in {path.rsplit('/', 1)[-1] if path else 'a clip'}",
                  f"{path or '(path unknown)'}\n\n{text.strip()}", "warning")
