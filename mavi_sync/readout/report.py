"""Human and JSON renderings: plans and scans (`inspect`, `scan`), outcomes, `status`,
`ledger` and the `sync` progress bar."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime
from typing import Any, Iterable, Optional

from mavi_sync.owner.gate import hand_pause
from mavi_sync.engine.snapshot import Snapshot
from mavi_sync.ledger.records import GONE_HOW, FileRecord
from mavi_sync.ledger.store import Ledger
from mavi_sync.media.model import Converted
from mavi_sync.media.pairs import Pair, skipped_half
from mavi_sync.pipeline.plan import FilePlan, metadata_record
from mavi_sync.pipeline.uploader import Outcome


def _size(n: int) -> str:
    if n < 1e3:
        return f"{n} B"
    if n < 1e6:
        return f"{n / 1e3:.1f} kB"
    if n < 1e9:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e9:.1f} GB"


def _content(plan: FilePlan) -> str:
    info = plan.info
    if info.kind is None:
        return "unknown"
    parts = [f"{info.kind.format.upper()} {info.kind.family} ({info.kind.mime})", _size(info.size)]
    if info.width and info.height:
        parts.append(f"{info.width}x{info.height}")
    if info.orientation and info.orientation != 1:
        parts.append(f"orientation {info.orientation}")
    if info.duration_s is not None:
        parts.append(f"{info.duration_s:.1f} s")
    if info.video_codec or info.audio_codec:
        parts.append("codecs " + "/".join(c for c in (info.video_codec, info.audio_codec) if c))
    return ", ".join(parts)


def inspect_text(plan: FilePlan, converted: Optional["Converted | str"] = None, pair: Optional[Pair] = None) -> str:
    """`converted`: the JPEG made from a photo no endpoint takes (or why it could not be);
    `pair`: the Live Photo the file is one half of."""
    info, cap = plan.info, plan.capture
    offset = cap.instant.strftime("%z")
    lines = [str(plan.path), f"  content     {_content(plan)}"]
    if info.refusal:
        lines.append(f"  REFUSED     {info.refusal}")
    lines += [
        f"  taken       {cap.local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]} "
        f"({cap.source}{'' if cap.offset_from_file else ', offset from the folder time zone'})",
        f"  camera      {info.camera_model or '-'}",
        f"  position    {'%.7f, %.7f' % info.position if info.position else '-'}",
    ]
    if info.keywords:
        lines.append(f"  keywords    {', '.join(info.keywords)}")
    if plan.sha256:
        lines.append(f"  sha256      {plan.sha256}")
    lines += [f"  note        {n}" for n in info.notes]
    if pair is not None:
        lines.append(f"  live photo  {_pair_text(plan, pair)}")
    if info.motion_size:
        lines.append(f"  motion      {_motion_text(plan)}")
    chosen = plan.chosen
    lines.append(f"  folder      {plan.folder.path} (target {plan.folder.target}"
                 f"{' → ' + chosen.target if plan.folder.target == 'auto' else ''}): "
                 f"{'would upload' if chosen.accepted else 'would refuse'}")
    for target, tp in plan.targets.items():
        if not tp.verdict.accepted:
            lines.append(f"  {target:<10}  refused: {tp.verdict.reason}")
            continue
        how = " via signed URL" if tp.verdict.method == "signed" else ""
        lines.append(f"  {target:<10}  accepted{how} as {tp.filename} ({tp.mime})")
        if tp.verdict.convert == "jpeg":
            lines.append(f"      converted: {_converted(converted, plan.folder.jpeg_quality)}")
        elif tp.verdict.convert == "mp4":
            lines.append("      converted: remuxed into MP4 when sent (the streams copied, not re-encoded)")
        elif tp.verdict.convert == "clip":
            lines.append("      converted: the motion photo's own MP4, copied out of the JPEG when sent")
        elif tp.verdict.convert == "h264":
            lines.append("      converted: re-encoded as H.264 in MP4 when sent (transcode = true; minutes of CPU)")
        for key, value in (tp.fields.form.items() if tp.fields else ()):
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            lines.append(f"      {key} = {shown}")
        lines += [f"      note: {n}" for n in (tp.fields.notes if tp.fields else ())]
    return "\n".join(lines)


def _pair_text(plan: FilePlan, pair: Pair) -> str:
    other = pair.motion if plan.path == pair.still else pair.still
    policy = plan.folder.live_photos
    skipped = skipped_half(policy, pair, plan.path)
    verdict = f"not sent: {skipped}" if skipped else (f"sent, tagged {pair.tag}" if policy == "both" else "sent")
    return f"paired with {other.name} (live_photos = {policy!r}: this half is {verdict})"


def _motion_text(plan: FilePlan) -> str:
    info = plan.info
    clip = f"a {_size(info.motion_size or 0)} {info.motion_codec or 'unknown-codec'} clip"
    if info.motion_duration_s:
        clip += f" of {info.motion_duration_s:.1f} s"
    sent = ("the clip is sent" if plan.chosen.convert == "clip" else
            "the still and, as a video of its own, the clip are sent" if plan.folder.live_photos == "both" else
            "the still is sent; the clip stays inside it")
    return f"{clip} inside (live_photos = {plan.folder.live_photos!r}: {sent})"


def _converted(converted: Optional["Converted | str"], quality: int) -> str:
    if converted is None:
        return f"to JPEG (quality {quality}) when sent"
    if isinstance(converted, str):
        return f"FAILS: {converted}"
    text = f"to JPEG, {_size(converted.size)}, {converted.width}x{converted.height}, quality {converted.quality}"
    return text + "".join(f"; {n}" for n in converted.notes)


def inspect_json(plan: FilePlan, converted: Optional["Converted | str"] = None,
                 pair: Optional[Pair] = None) -> dict[str, Any]:
    return {
        "live_photo": None if pair is None else {
            "still": str(pair.still), "motion": str(pair.motion), "tag": pair.tag, "policy": plan.folder.live_photos,
            "skipped": skipped_half(plan.folder.live_photos, pair, plan.path)},
        "motion_photo": None if not plan.info.motion_size else {
            "offset": plan.info.motion_offset, "size": plan.info.motion_size, "codec": plan.info.motion_codec,
            "duration_s": plan.info.motion_duration_s, "policy": plan.folder.live_photos,
            "sent": "clip" if plan.chosen.convert == "clip" else
                    "both" if plan.folder.live_photos == "both" else "still"},
        "converted": (None if converted is None else {"error": converted} if isinstance(converted, str)
                      else {k: v for k, v in converted.to_wire().items() if k != "path"}),
        "path": str(plan.path),
        "sha256": plan.sha256,
        "size": plan.info.size,
        "refusal": plan.info.refusal,
        "capture_time": plan.capture.instant.isoformat(),
        "metadata": metadata_record(plan),
        "notes": list(plan.info.notes),
        "folder_target": plan.folder.target,
        "chosen_target": plan.chosen.target,
        "accepted": plan.chosen.accepted,
        "targets": {
            target: {
                "accepted": tp.verdict.accepted,
                "reasons": list(tp.verdict.reasons),
                "method": tp.verdict.method if tp.verdict.accepted else None,
                "filename": tp.filename,
                "content_type": tp.mime,
                "fields": tp.fields.as_json() if tp.fields else None,
                "notes": list(tp.fields.notes) if tp.fields else [],
            }
            for target, tp in plan.targets.items()
        },
    }


def scan_summary(entries: Iterable[Any]) -> str:
    counts = Counter(e.status for e in entries)
    order = ("upload", "known", "duplicate", "refused", "skipped")
    return "summary: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in order)


def outcome_line(o: Outcome) -> str:
    """One line per uploaded file: state, target, remote id, path, and why."""
    record = o.record
    target = record.target if record else "-"
    remote = (record.remote_id if record else None) or "-"
    return f"{o.state.value:<10} {target:<8} {remote:<22} {o.path}" + (f"  {o.detail}" if o.detail else "")


def outcome_json(o: Outcome) -> dict[str, object]:
    record = o.record
    return {"path": str(o.path), "state": o.state.value, "target": record.target if record else None,
            "remote_id": record.remote_id if record else None,
            "remote_status": record.remote_status if record else None, "detail": o.detail,
            "sha256": record.sha256 if record else None, "result": record.result if record else None}


def pass_total(now: Snapshot, finished_before: int) -> int:
    """Files in this `sync` pass: finished in it, and still to do."""
    return max(0, now.finished - finished_before) + now.pending


def progress_line(now: Snapshot, finished_before: int, elapsed_s: float, width: int = 12,
                  total_floor: int = 0) -> str:
    """The `sync` progress bar: files finished in this pass out of those it found, bytes sent
    and the rate. A file between two states can be counted in neither for a moment: the
    total shown never goes below `total_floor` (the largest shown so far), so it does not
    jump back; the ratio is clamped, never above 100 %."""
    done = max(0, now.finished - finished_before)
    total = max(done + now.pending, total_floor)
    filled = width if total == 0 else min(width, round(width * done / total))
    rate = now.bytes_sent / elapsed_s if elapsed_s > 0 else 0.0
    line = (f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} files  {_size(now.bytes_sent)} "
            f"{_size(int(rate))}/s  sending {now.uploading}  confirming {now.following}  failed {now.failed}")
    return (f"PAUSED: {now.paused}  " if now.paused else "") + line


RUNNING_S = 30.0  # a heartbeat younger than this: the daemon runs (it beats every 5 s)


def status_json(ledger: Ledger, now: float) -> dict[str, Any]:
    """What `mavi-sync status` shows: counts by state and target, the daemon's own report
    (paused reason, outage, heartbeat), the last errors and the oldest pending file."""
    counts: dict[str, dict[str, int]] = {}
    for (state, target), n in sorted(ledger.counts().items()):
        counts.setdefault(state, {})[target] = n
    daemon = {k: v for k, (v, _at) in ledger.daemon().items()}
    beat = float(daemon["heartbeat"]) if "heartbeat" in daemon else None
    errors = [{**_place(ledger, r.id), "state": r.state.value, "target": r.target, "error": r.last_error}
              for r in ledger.files(limit=200) if r.last_error][:5]
    running = beat is not None and now - beat < RUNNING_S
    return {
        "counts": counts,
        "total": sum(sum(t.values()) for t in counts.values()),
        "running": running,
        "pid": daemon.get("pid"),
        "heartbeat_age_s": round(now - beat, 1) if beat is not None else None,
        "summary": daemon.get("summary"),
        "paused": daemon.get("paused"),
        "paused_detail": daemon.get("paused_detail"),
        "outage": daemon.get("outage"),
        "outage_since": float(daemon["outage_since"]) if daemon.get("outage_since") else None,
        "last_errors": errors,
        "skipped": ledger.skipped_count(),
        "hand_paused": _hand(ledger.daemon()),
        "bandwidth": _bandwidth(daemon.get("gate")) if running else None,
        "oldest_pending": _oldest_pending(ledger, daemon.get("waiting") if running else None, now),
        "after": after_json(ledger, now),
    }


def _oldest_pending(ledger: Ledger, held: Optional[str], now: float) -> Optional[dict[str, Any]]:
    """The file pending longest: the oldest row not done yet, or a file the running daemon
    holds back before it has a row (`held`: what it recorded, events.Wait), whichever waits
    longer. Named, with since when and why."""
    row = ledger.oldest_pending()
    candidates = [] if row is None else [{**_place(ledger, row.id), "state": row.state.value, "target": row.target,
                                          "since": row.created_at, "reason": row.last_error}]
    try:
        wait = json.loads(held) if held else None
    except ValueError:
        wait = None
    if isinstance(wait, dict):
        candidates.append({"path": wait.get("path"), "place": "watched", "was": None, "state": wait.get("why"),
                           "target": None, "since": float(wait.get("since") or now),
                           "reason": wait.get("detail") or None})
    oldest = min(candidates, key=lambda c: c["since"], default=None)
    return None if oldest is None else {**oldest, "age_s": round(now - oldest["since"], 1)}


def after_json(ledger: Ledger, now: float) -> dict[str, Any]:
    """{action: waiting, and the oldest}: the after-upload actions owed (after/duties.py)."""
    return {action: {"waiting": n, "oldest": {"path": os.fsdecode(d.path), "age_s": round(now - d.due_at, 1),
                                              "attempts": d.attempts, "error": d.last_error}}
            for action, (n, d) in sorted(ledger.waiting(now).items())}


def _after_lines(after: dict[str, Any]) -> list[str]:
    lines = []
    for action, w in after.items():
        o = w["oldest"]
        tried = f"; tried {o['attempts']} time(s): {o['error']}" if o["error"] else ""
        lines.append(f"waiting to {action}: {w['waiting']}, oldest {o['path']} ({o['age_s']:.0f} s{tried})")
    return lines


def empty_status() -> dict[str, Any]:
    """`status` where no ledger exists yet: the shape of status_json, nothing in it."""
    return {"counts": {}, "total": 0, "running": False, "pid": None, "heartbeat_age_s": None, "summary": None,
            "paused": None, "paused_detail": None, "outage": None, "outage_since": None, "last_errors": [],
            "skipped": 0, "hand_paused": None, "bandwidth": None, "oldest_pending": None, "after": {}}


def _hand(daemon: dict[str, tuple[str, float]]) -> Optional[dict[str, Any]]:
    hand = hand_pause(daemon)
    return None if hand is None else {"by": hand.by, "at": hand.at, "until": hand.until, "text": hand.describe()}


def _bandwidth(recorded: Optional[str]) -> Optional[dict[str, Any]]:
    """The running daemon's gate (gate.GateState.as_json), as it recorded it."""
    try:
        return dict(json.loads(recorded)) if recorded else None
    except ValueError:
        return None


def _place(ledger: Ledger, file_id: int) -> dict[str, Optional[str]]:
    """Where a row's bytes are now (`path`, `place`, `was`): the same in `ledger`, `captions` and `status`."""
    place = ledger.place_of(file_id)
    return place.as_json() if place is not None else {"path": None, "place": None, "was": None}


def where(row: dict[str, Any]) -> str:
    """A row's place in words: its path, and why no watched path holds its bytes any more."""
    if row.get("path") is None:
        return "-"
    return row["path"] + ("" if row.get("place") in (None, "watched") else f" ({GONE_HOW[row['place']]})")


def _bandwidth_lines(b: Optional[dict[str, Any]]) -> list[str]:
    if not b:
        return []
    change = f" (changes at {_local(b['changes_at'])})" if b.get("changes_at") else ""
    lines = [f"upload cap: {b['cap']}{change}"]
    if b.get("window"):
        lines.append(f"upload window: {b['window']}" + (f", until {_local(b['changes_at'])}" if b.get("changes_at") else ""))
    return lines


def _local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def status_text(s: dict[str, Any]) -> str:
    lines = [("running" if s["running"] else "not running") + (f" (pid {s['pid']})" if s["running"] else "")
             + (f": {s['summary']}" if s["summary"] and s["running"] else "")]
    if s["paused"]:
        lines.append(f"PAUSED: {s['paused']}: {s['paused_detail']}")
    if s["outage"]:
        lines.append(f"API OUTAGE: {s['outage']}")
    if s["hand_paused"]:
        lines.append(f"PAUSED BY HAND: {s['hand_paused']['text']}"
                     + ("" if s["running"] else " (applies when the daemon starts)"))
    lines += _bandwidth_lines(s["bandwidth"])
    targets = sorted({t for by_target in s["counts"].values() for t in by_target})
    if targets:
        lines.append(f"{'state':<11}" + "".join(f"{t:>10}" for t in targets) + f"{'total':>10}")
        for state, by_target in s["counts"].items():
            lines.append(f"{state:<11}" + "".join(f"{by_target.get(t, 0):>10}" for t in targets)
                         + f"{sum(by_target.values()):>10}")
    else:
        lines.append("the ledger is empty")
    if s["oldest_pending"]:
        o = s["oldest_pending"]
        what = ", ".join(str(v) for v in (o["state"], o["target"]) if v) + (f": {o['reason']}" if o["reason"] else "")
        lines.append(f"oldest pending: {where(o)} ({what}; since {_local(o['since'])}, {o['age_s']:.0f} s)")
    lines += _after_lines(s.get("after") or {})
    for e in s["last_errors"]:
        lines.append(f"error: {where(e)} ({e['state']}): {e['error']}")
    if s["skipped"]:
        lines.append(f"skipped: {s['skipped']} path(s) with nothing to upload (why: mavi-sync ledger --skipped)")
    return "\n".join(lines)


def skipped_rows(ledger: Ledger, limit: int) -> list[dict[str, Any]]:
    return [{"path": os.fsdecode(raw), "reason": reason, "last_seen": at} for raw, reason, at in ledger.skipped(limit)]


def ledger_rows(ledger: Ledger, records: Iterable[FileRecord]) -> list[dict[str, Any]]:
    return [{**_place(ledger, r.id), "state": r.state.value, "target": r.target, "sha256": r.sha256,
             "sent_sha256": r.sent_sha256, "size": r.size, "remote_id": r.remote_id, "remote_status": r.remote_status, "attempts": r.attempts,
             "error": r.last_error, "updated_at": r.updated_at} for r in records]
