"""The end of the day (tests/e2e/test_day.py): what the emulator holds, the ledger, `captions`,
`status`, the metrics, the folders and the daemon's log, held to the day's promises.

The interfaces issue 23 adds (where a row's bytes are now, the after-upload duty in
`status` and the metrics) are read in one place each, at the top: `place_of`,
`after_upload`, `after_upload_metric`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import requests

from mavi_sync.emulator.admin import Admin
from tests.e2e.day import Box, Expect, sha
from tests.e2e.promises import Promises
from tests.e2e.rig import CLI, Daemon

SIDECAR = ".caption.txt"
# The daemon's log lines naming one path over the day. A clip says: sent, its status (or
# caption), archived or deleted, gone from the folder; held once by a window or a pause and
# retried once in an outage at most: 7. A file that waits is told twice (it waits, it is decided).
LINES_PER_FILE = 8
UNFINISHED_PER_FILE = 2  # `file_unfinished` lines naming one path: when it starts waiting, not every tick


# -- interfaces the fixes of issue 23 add: what this test assumes of them --------------------
def place_of(row: dict[str, Any]) -> Optional[str]:
    """Where a `ledger --json` row's bytes are now: "watched" (`path` is the watched path),
    "archived" (`path` is the archive destination) or "deleted" (deleted after upload), from
    the row's `place`; a row without `place` (today's rows) is "watched" when it has a path."""
    return row.get("place") or ("watched" if row.get("path") else None)


def after_upload(status: dict[str, Any]) -> Optional[dict[str, Any]]:
    """`status --json`'s after-upload duties (`after`: {action: {"waiting": N, "oldest": {"path",
    "age_s", …}}}) as {"waiting": {action: N}, "oldest": the oldest of all, or None}; None when
    status has no `after` at all."""
    duty = status.get("after")
    if not isinstance(duty, dict):
        return None
    oldest = max((w["oldest"] for w in duty.values()), key=lambda o: o["age_s"], default=None)
    return {"waiting": {action: w["waiting"] for action, w in duty.items()}, "oldest": oldest}


def after_upload_metric(metrics: dict[tuple[str, str], float], action: str) -> Optional[float]:
    """`mavi_sync_after_upload_waiting{action="archive"}` (or "delete"); None when not exported."""
    return metrics.get(("mavi_sync_after_upload_waiting", f'action="{action}"'))


# -- reading the box ---------------------------------------------------------------------------
def command(d: Daemon, *args: str) -> Any:
    out = subprocess.run([*CLI, *args, "--config", str(d.config)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **getattr(d, "env", {})})
    assert out.returncode == 0, f"mavi-sync {' '.join(args)}: {out.stderr[-2000:]}"
    return json.loads(out.stdout)


def ledger(d: Daemon) -> list[dict[str, Any]]:
    return list(command(d, "ledger", "--json", "--limit", "1000000"))


def metrics(port: int) -> dict[tuple[str, str], float]:
    """The Prometheus exposition as {(name, labels): value}."""
    found: dict[tuple[str, str], float] = {}
    for line in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name_labels, value = line.rsplit(" ", 1)
        name, _, labels = name_labels.partition("{")
        found[(name, labels.rstrip("}"))] = float(value)
    return found


def log_lines(d: Daemon) -> list[dict[str, Any]]:
    lines = []
    for text in d.logs().splitlines():
        try:
            lines.append(json.loads(text))
        except ValueError:
            continue
    return lines


@dataclass
class Site:
    """One box of the day and the daemon that runs it."""

    box: Box
    daemon: Daemon


# -- the checks ---------------------------------------------------------------------------------
def evening(sites: list[Site], admin: Admin, p: Promises) -> None:
    """Every promise of the day, against the state at its end (the daemons still running)."""
    uploads = admin.uploads()
    held = Counter((u["kind"], u["sha256"]) for u in uploads)
    by_id = {u["id"]: u for u in uploads}
    listed = {id(site): ledger(site.daemon) for site in sites}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for site in sites:
        for row in listed[id(site)]:
            rows.setdefault((row["target"], row["sha256"]), row)
    expected_sent: set[tuple[str, str]] = set()
    for site in sites:
        for e in site.box.expects:
            _file(site.box, e, rows, held, by_id, p)
            expected_sent |= _sent(e, rows)
        for still, motion in site.box.pairs:
            _live(site.box, still, motion, rows, by_id, p)
    strays = [(u["kind"], u["filename"], u["size"]) for u in uploads if (u["kind"], u["sha256"]) not in expected_sent]
    p.check(not strays, "the emulator holds nothing but the day's valid files (no prefix, no refused file)", strays)
    for row in rows.values():
        _row(row, by_id, p)
    dropped = {digest for site in sites for digest in site.box.dropped}
    kept = [r["path"] for r in rows.values() if r["sha256"] in dropped]
    p.check(not kept, "a folder taken out of the config leaves no row of its unsent files", kept)
    for site in sites:
        _logs(site, p)
        _agree(site, listed[id(site)], len(sites) == 1, p)
        _reaped(site, p)
    kinds = ("image", "video", "security", "asset")
    p.figures.update(files=sum(len(s.box.expects) for s in sites), uploads=len(uploads), ledger_rows=len(rows),
                     lost=len({k for k in expected_sent if k[1]} - set(held)),
                     duplicates={k: sum(n - 1 for (kind, _s), n in held.items() if kind == k) for k in kinds})


def _sent(e: Expect, rows: dict[tuple[str, str], dict[str, Any]]) -> set[tuple[str, str]]:
    """The uploads a valid file accounts for, (kind, sha256), whatever state its row is in."""
    if e.target is None:
        return set()
    row = rows.get((e.target, e.sha256)) or {}
    found = {(e.target, e.sha256 if e.as_is else row.get("sent_sha256") or "")}
    return found | ({("video", e.clip)} if e.clip else set())


def _file(box: Box, e: Expect, rows: dict[tuple[str, str], dict[str, Any]], held: Counter[tuple[str, str]],
          by_id: dict[str, dict[str, Any]], p: Promises) -> None:
    """One file's promises: decided, sent once and byte for byte, its after-upload action done."""
    name = str(e.now or e.path)
    if e.target is None:
        refused = [r for (_t, digest), r in rows.items() if digest == e.sha256]
        p.check(bool(refused) and all(r["state"] == "rejected" and e.reason in (r["error"] or "") for r in refused),
                "every invalid file is refused with its reason", f"{name}: {refused or 'no ledger row'} "
                f"(expected rejected, '{e.reason}')")
        p.check(not any(digest == e.sha256 for (_k, digest) in held), "a refused file is never uploaded", name)
        p.check(e.path.is_file() and sha(e.path) == e.sha256, "a refused file is left as it was", name)
        return
    row = rows.get((e.target, e.sha256))
    if not p.check(row is not None and row["state"] == "confirmed", "every valid file is confirmed",
                   f"{name} ({e.target}): {row and (row['state'], row['error'])}"):
        return
    assert row is not None
    sent = e.sha256 if e.as_is else (row["sent_sha256"] or "")
    p.check(e.as_is is (row["sent_sha256"] in (None, e.sha256)), "what is sent is the file's own bytes unless "
            "it had to be converted", f"{name}: sent_sha256 {row['sent_sha256']}")
    if e.copy_of is None:
        p.check(held[(e.target, sent)] == 1, "every valid file is uploaded exactly once",
                f"{name}: {held[(e.target, sent)]} upload(s) of {e.target} {sent[:12]}")
    p.check(held_as(row, by_id) == sent, "the emulator holds the file byte for byte, under the ledger's remote id",
            f"{name}: {row['remote_id']}")
    if e.clip is not None:  # (its row: the photo's sha256 for the video target, the clip's as sent_sha256)
        clip = rows.get(("video", e.sha256))
        p.check(clip is not None and clip["state"] == "confirmed" and clip["sent_sha256"] == e.clip
                and held[("video", e.clip)] == 1, "a motion photo's clip is confirmed once, as a video of its own",
                f"{name}: {clip and (clip['state'], clip['sent_sha256'])}, {held[('video', e.clip)]} upload(s)")
    _after(box, e, p)


def _after(box: Box, e: Expect, p: Promises) -> None:
    """The folder's after-upload action is done, and a sidecar follows its clip."""
    folder, here = box.folder_of(e.path), e.now or e.path
    if folder == "sec":
        dest = box.archived_at(e)
        p.check(not e.path.exists() and dest.is_file() and sha(dest) == e.sha256,
                "every confirmed clip of an archive folder is archived (the duty is done, whatever stopped it once)",
                f"{e.path}: still there {e.path.exists()}, archived {dest.is_file()}")
        beside = e.path.with_name(e.path.name + SIDECAR)
        p.check(not beside.exists() and dest.with_name(dest.name + SIDECAR).is_file(),
                "a sidecar follows its clip into the archive", f"{e.path.name}: left behind {beside.exists()}, "
                f"in the archive {dest.with_name(dest.name + SIDECAR).is_file()}")
    elif folder == "vid":
        p.check(not e.path.exists(), "every confirmed file of a delete folder is deleted", str(e.path))
    else:
        p.check(here.is_file() and sha(here) == e.sha256, "a kept file stays where its owner put it", str(here))


def held_as(row: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> Optional[str]:
    """The sha256 of what the emulator holds under the row's remote id. A sync security
    answer carries no id: the ledger names it `sync-` and its sha256 prefix."""
    remote = by_id.get(row["remote_id"] or "")
    if remote is not None:
        return str(remote["sha256"])
    if row["target"] == "security" and row["remote_id"] == f"sync-{row['sha256'][:16]}":
        sent = row["sent_sha256"] or row["sha256"]
        return sent if any(u["kind"] == "security" and u["sha256"] == sent for u in by_id.values()) else None
    return None


def _row(row: dict[str, Any], by_id: dict[str, dict[str, Any]], p: Promises) -> None:
    """Every ledger row says where its bytes are now, and a confirmed one is what the emulator holds."""
    place, path = place_of(row), row.get("path")
    p.check(place in ("watched", "archived", "deleted"), "no ledger row without a place (watched path, archive "
            "destination, or deleted after upload)", f"{row['target']} {row['state']} {row['sha256'][:12]}: "
            f"place {row.get('place')!r}, path {path!r}")
    if place in ("watched", "archived"):
        p.check(path is not None and Path(path).is_file(), "a row's place is where its bytes are", f"{place} {path}")
    p.check(not (path or "").endswith(SIDECAR), "sidecars are never taken for media", f"a ledger row for {path}")
    if row["state"] == "confirmed":
        p.check(held_as(row, by_id) in (row["sha256"], row["sent_sha256"]), "every confirmed row is held by the "
                "emulator", f"{path}: {row['remote_id']}")


def _live(box: Box, still: Path, motion: Path, rows: dict[tuple[str, str], dict[str, Any]],
          by_id: dict[str, dict[str, Any]], p: Promises) -> None:
    """Both halves of a Live Photo went up (live_photos = "both"), tagged with the same `live:` tag."""
    tags = []
    for half in (still, motion):
        e = next(e for e in box.expects if e.path == half)
        remote = by_id.get((rows.get((e.target or "", e.sha256)) or {}).get("remote_id") or "")
        tags.append({t for t in (remote or {}).get("tags", []) if t.startswith("live:")})
    p.check(len(tags[0]) == 1 and tags[0] == tags[1], "both halves of a Live Photo carry the same live: tag",
            f"{still.name}: {tags}")


def _logs(site: Site, p: Promises) -> None:
    """Log lines per file are bounded: a file that waits is logged when it starts waiting and
    when it is decided, not on every tick."""
    per_path: Counter[str] = Counter()
    unfinished: Counter[str] = Counter()
    for line in log_lines(site.daemon):
        path = line.get("path")
        if isinstance(path, str):
            per_path[path] += 1
            unfinished[path] += line.get("event") == "file_unfinished"
    flooded = {k: n for k, n in per_path.items() if n > LINES_PER_FILE}
    p.check(not flooded, f"at most {LINES_PER_FILE} log lines name one file over the day", flooded)
    ticking = {k: n for k, n in unfinished.items() if n > UNFINISHED_PER_FILE}
    p.check(not ticking, f"a waiting file is logged when it starts waiting, not on every tick (at most "
            f"{UNFINISHED_PER_FILE} file_unfinished)", ticking)
    sidecars = {k: n for k, n in per_path.items() if k.endswith(SIDECAR)}
    p.check(not sidecars, "sidecars are never taken for media (no log line names one)", sidecars)
    p.figures["max_lines_per_file"] = max([p.figures.get("max_lines_per_file", 0), *per_path.values()])


def _reaped(site: Site, p: Promises) -> None:
    """A probe helper that left after probe_idle_s (3 s here) was reaped: no <defunct> child."""
    assert site.daemon.proc is not None
    pid = site.daemon.proc.pid

    def children() -> list[tuple[str, str]]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
                command_line = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()[-80:]
            except (OSError, IndexError):
                continue  # (gone meanwhile)
            if int(ppid) == pid:
                found.append((state, command_line))
        return found
    p.within(15, lambda: all(state == "Z" for state, _ in children()), "the probe helper leaves after probe_idle_s "
             "once nothing is left to read", children)
    p.check(not children(), "a probe helper that leaves is reaped (no <defunct> child of the daemon)", children())


def _agree(site: Site, rows: list[dict[str, Any]], alone: bool, p: Promises) -> None:
    """`status`, `ledger`, `captions` and the metrics say the same, and nothing is left paused.
    (`alone`: a box of its own; a fleet node's status counts the rows it registered first,
    its ledger lists more.)"""
    d, box = site.daemon, site.box
    status: dict[str, Any] = {}

    def idle() -> bool:
        status.update(command(d, "status", "--json"))
        return "uploading 0" in (status["summary"] or "")
    p.within(8, idle, "status counts only what is true: uploading = requests in flight (none now; the summary is "
             "written every 5 s)", lambda: status["summary"], every=1.0)
    m = metrics(box.metrics_port)
    p.check(status["paused"] is None and status["outage"] is None and status["hand_paused"] is None,
            "no pause is left at the end of the day", {k: status[k] for k in ("paused", "outage", "hand_paused")})
    p.check(m.get(("mavi_sync_paused", "")) == 0 and m.get(("mavi_sync_paused_by_hand", "")) == 0,
            "the metrics show no pause at the end of the day")
    p.check(m.get(("mavi_sync_uploads_in_flight", "")) == 0, "the metrics count only what is true: uploads in "
            "flight = requests in flight (none now)", m.get(("mavi_sync_uploads_in_flight", "")))
    gauges = {(labels.split('"')[1], labels.split('"')[3]): int(v) for (name, labels), v in m.items()
              if name == "mavi_sync_files"}
    counts = {(state, target): n for state, targets in status["counts"].items() for target, n in targets.items()}
    p.check(gauges == counts, "status and the metrics count the same files", f"status {counts}, metrics {gauges}")
    if alone:
        by_state = dict(Counter((r["state"], r["target"]) for r in rows))
        p.check(by_state == counts, "status and `ledger` count the same files", f"ledger {by_state}")
    duty = after_upload(status)
    p.check(duty is not None and not any((duty.get("waiting") or {}).values()),
            "status shows the after-upload duty, and none is left waiting", duty)
    p.check(after_upload_metric(m, "archive") == 0 and after_upload_metric(m, "delete") == 0,
            "the metrics show the after-upload duty, and none is left waiting")
    _captions(site, rows, p)


def _captions(site: Site, rows: list[dict[str, Any]], p: Promises) -> None:
    """`captions` lists every captioned clip where its bytes are now, and its sidecar says the same."""
    d, box = site.daemon, site.box
    security = {r["remote_id"]: r for r in rows if r["target"] == "security" and r["state"] == "confirmed"}
    listed = {c["remote_id"]: c for c in command(d, "captions", "--json", "--limit", "1000000")}
    for remote_id, row in security.items():
        c = listed.get(remote_id)
        if not p.check(c is not None and bool(c["text"]), "every confirmed clip's caption is listed", row["path"]):
            continue
        assert c is not None
        if not p.check(c["path"] is not None and c["path"] == row["path"], "`captions` and `ledger` agree on where "
                       "a clip is now", f"captions {c['path']!r}, ledger {row['path']!r}"):
            continue
        sidecar = Path(c["path"] + SIDECAR)
        p.check(sidecar.is_file() and sidecar.read_text().strip() == c["text"].strip(),
                "a clip's sidecar, where the clip is, holds its caption", str(sidecar))
    in_folder = {c["remote_id"] for c in command(d, "captions", "--json", "--limit", "1000000",
                                                   "--folder", str(box.dirs["sec"]))}
    p.check(set(security) <= in_folder, "`captions --folder` lists the folder's clips, archived ones too",
            f"{len(set(security) - in_folder)} of {len(security)} missing")
