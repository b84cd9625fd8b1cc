"""Human and JSON renderings of plans and scans (what `inspect` and `scan` print)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from mavi_sync.plan import FilePlan, metadata_record
from mavi_sync.uploader import Outcome


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


def inspect_text(plan: FilePlan) -> str:
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
        for key, value in (tp.fields.form.items() if tp.fields else ()):
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            lines.append(f"      {key} = {shown}")
        lines += [f"      note: {n}" for n in (tp.fields.notes if tp.fields else ())]
    return "\n".join(lines)


def inspect_json(plan: FilePlan) -> dict[str, Any]:
    return {
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
    order = ("upload", "known", "duplicate", "refused", "unreadable")
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
