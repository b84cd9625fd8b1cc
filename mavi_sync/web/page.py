"""The status page as HTML, rendered on the server from the board's document: it reads the
same without JavaScript (a <noscript> refresh every 10 s keeps it current, its buttons are
plain forms). With JavaScript, page.js fetches /fragment every two seconds and swaps the
regions marked data-live; no second renderer exists in the browser.

Everything shown is escaped here (a file name is text, whatever it holds); no page holds a
key, a password or a session token (the session travels in an HttpOnly cookie alone).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Iterable, Optional

from mavi_sync.web.board import search

PAUSES = (("30m", "30 minutes"), ("1h", "1 hour"), ("2h", "2 hours"), ("6h", "6 hours"), ("1d", "1 day"),
          ("", "until resumed"))
HELD = {"hand": "Paused by hand", "window": "Outside the upload windows", "account": "The account cannot upload",
        "outage": "memories.ai cannot be reached", "ledger": "The ledger cannot be written"}


def e(value: object) -> str:
    """Text for HTML: escaped; a file name's undecodable bytes shown as \\x escapes."""
    text = "" if value is None else str(value)
    return html.escape(text.encode("utf-8", "backslashreplace").decode("utf-8"), quote=True)


def size(n: Optional[float]) -> str:
    if n is None:
        return "-"
    for unit, step in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{int(n)} B"


def left(seconds: float) -> str:
    """An ETA in words: "under a minute left", "about 25 min left", "about 3.5 h left"."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute left"
    if minutes < 120:
        return f"about {minutes} min left"
    hours = minutes / 60
    return f"about {hours:.1f} h left" if hours < 48 else f"about {hours / 24:.1f} days left"


def when(epoch: Optional[float], now: float) -> str:
    if epoch is None:
        return ""
    moment = datetime.fromtimestamp(epoch)
    return moment.strftime("%H:%M:%S" if moment.date() == datetime.fromtimestamp(now).date() else "%Y-%m-%d %H:%M")


def page(doc: dict[str, Any], query: str, flash: str, login: bool = False) -> str:
    """The whole page; `login`: the password form instead (beyond loopback, no session)."""
    body = _login(flash) if login else (
        f'<p id="notice" role="status">{e(flash)}</p>{_controls()}<main id="live" data-live>{fragment(doc)}</main>'
        f'{_captions_form(query)}<div id="caption-results" data-live>{captions(doc, query)}</div>'
        '<footer>JSON: <a href="/api/v1/status">/api/v1/status</a> (as <code>mavi-sync status --json</code>), '
        '<a href="/api/v1/page">/api/v1/page</a>, <a href="/healthz">/healthz</a></footer>')
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>mavi-sync</title>'
            '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/page.css">'
            + ("" if login else '<noscript><meta http-equiv="refresh" content="10"></noscript>'
                                '<script src="/static/page.js" defer></script>')
            + f'</head><body><header><h1>mavi-sync</h1></header>{body}</body></html>')


def _login(why: str) -> str:
    return (f'<p id="notice" role="status" class="bad">{e(why)}</p>'
            '<main><form method="post" action="/login" class="login"><label>Password '
            '<input type="password" name="password" autocomplete="current-password" required autofocus></label> '
            '<button>Log in</button></form></main>')


def _controls() -> str:
    options = "".join(f'<option value="{v}"{" selected" if v == "1h" else ""}>{label}</option>' for v, label in PAUSES)
    return ('<section id="controls" aria-label="actions">'
            f'<form method="post" action="/action/pause"><label>Pause uploads <select name="for">{options}</select>'
            '</label> <button id="pause">Pause</button></form>'
            '<form method="post" action="/action/resume"><button id="resume">Resume</button></form></section>')


def _captions_form(query: str) -> str:
    return ('<section id="captions"><h2>Security captions</h2><form method="get" action="/" role="search">'
            f'<input type="search" name="q" value="{e(query)}" placeholder="search the recent captions" '
            'maxlength="200" aria-label="search the captions"> <button>Search</button></form></section>')


def fragment(doc: dict[str, Any]) -> str:
    """The regions that change: what holds uploads, what is left, in flight, per folder, the lists."""
    now = doc["generated_at"]
    if doc.get("error"):
        return f'<p class="held" data-kind="ledger">The ledger cannot be read: {e(doc["error"])}</p>'
    status = doc["status"]
    beat = status["heartbeat_age_s"]
    state = (f"running (pid {status['pid']}, last heartbeat {beat:.0f} s ago)" if status["running"] else
             "not running: no heartbeat for 30 s" if beat is not None else "not running")
    parts = [f'<p id="state" class="{"ok" if status["running"] else "bad"}">{e(state)}</p>']
    parts += [f'<p class="held" data-kind="{e(h["kind"])}"><strong>{e(HELD.get(h["kind"], h["kind"]))}</strong>: '
              f'{e(h["text"])}</p>' for h in doc["held"]]
    parts += [_totals(doc), _uploading(doc["uploading"]), _folders(doc["folders"]), _failed(doc["failed"], now),
              _waiting(doc["waiting"], now), _refused(doc["refused"]), _files(doc["files"], now), _events(doc["events"])]
    return "".join(parts)


def _totals(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    to_go, done = t["files_to_go"], t["done"]
    if not to_go and not t["settling"]:
        return f'<section id="progress"><h2>Progress</h2><p>Everything found is uploaded ({done} files).</p></section>'
    bytes_text = ("at least " if t["unmeasured"] else "") + size(t["bytes_to_go"])
    rate = t["rate_bytes_per_s"]
    speed = f"{size(rate)}/s" if rate else "measuring the rate…" if rate is None else "nothing moving"
    eta = f", {left(t['eta_s'])}" if t["eta_s"] else ""
    settling = f'; {t["settling"]} more settling (still written, or just found)' if t["settling"] else ""
    return (f'<section id="progress"><h2>Progress</h2><p><span id="to-go">{to_go} files ({bytes_text}) to go</span>, '
            f'{done} done · <span id="rate">{speed}</span>{eta}{settling}</p>'
            f'<progress id="overall" value="{done}" max="{max(1, done + to_go)}"></progress></section>')


def _table(id_: str, title: str, head: Iterable[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<section id="{id_}"><h2>{title}</h2><p class="empty">{empty}</p></section>'
    cells = "".join(f"<th>{h}</th>" for h in head)
    return f'<section id="{id_}"><h2>{title}</h2><table><thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>'


def _uploading(transfers: list[dict[str, Any]]) -> str:
    rows = [f'<tr><td class="path">{e(t["path"])}</td><td><progress value="{t["sent"]}" max="{max(1, t["total"])}">'
            f'</progress></td><td>{size(t["sent"])} of {size(t["total"]) if t["total"] else "…"}</td>'
            f'<td>{size(t["rate_bytes_per_s"]) + "/s" if t["rate_bytes_per_s"] else "preparing"}</td></tr>'
            for t in transfers]
    return _table("uploading", "Uploading now", ("file", "", "sent", "rate"), rows, "Nothing is being sent.")


def _folders(folders: list[dict[str, Any]]) -> str:
    keys = ("done", "confirming", "queued", "uploading", "waiting", "refused", "failed")
    rows = [f'<tr><td class="path">{e(f["path"])} <small>({e(f["target"])})</small></td>'
            + "".join(f'<td class="{k}">{f[k]}</td>' for k in keys) + f'<td>{size(f["bytes_to_go"])}</td></tr>'
            for f in folders]
    return _table("folders", "Folders", ("folder",) + keys + ("to send",), rows, "No folders.")


def _files(files: list[dict[str, Any]], now: float) -> str:
    rows = [f'<tr data-path="{e(f["path"])}"><td class="path">{e(f["path"])}</td>'
            f'<td class="state" data-state="{e(f["state"])}">{e(f["state"])}</td><td>{e(f["target"] or "")}</td>'
            f'<td>{when(f["when"], now)}</td><td class="error">{e(f["error"] or "")}</td></tr>' for f in files]
    return _table("files", "Latest files", ("file", "state", "target", "when", "why"), rows, "No files yet.")


def _failed(failed: list[dict[str, Any]], now: float) -> str:
    rows = [f'<tr data-path="{e(f["path"])}"><td class="path">{e(f["path"])}</td><td class="error">{e(f["error"])}</td>'
            f'<td>{when(f["when"], now)}</td><td><form method="post" action="/action/retry">'
            f'<input type="hidden" name="file" value="{f["id"]}"><button class="retry">Retry</button></form></td></tr>'
            for f in failed]
    return _table("failed", "Failed", ("file", "why", "when", ""), rows, "No failed files.")


def _waiting(waiting: list[dict[str, Any]], now: float) -> str:
    rows = [f'<tr><td class="path">{e(w["path"])}</td><td class="error">{e(w["error"])}</td>'
            f'<td>{when(w["next_attempt_at"], now)}</td></tr>' for w in waiting]
    return _table("retrying", "Waiting for their next attempt", ("file", "last error", "next attempt"), rows,
                  "No file waits for a retry.")


def _refused(refused: list[dict[str, Any]]) -> str:
    rows = [f'<tr><td class="path">{e(r["folder"])}</td><td class="error">{e(r["reason"])}</td><td>{r["files"]}</td></tr>'
            for r in refused]
    return _table("refused", "Refused", ("folder", "reason", "files"), rows, "No file was refused.")


def _events(events: list[dict[str, Any]]) -> str:
    skip = {"event", "level", "timestamp", "logger", "sha256", "adopted", "remote_id", "duration_ms", "attempt",
            "size", "watch", "bytes_per_s"}
    rows = [f'<tr class="{e(ev.get("level", ""))}"><td>{e(str(ev.get("timestamp", ""))[11:19])}</td>'
            f'<td>{e(ev.get("event", ""))}</td><td>{e(" ".join(f"{k}={v}" for k, v in ev.items() if k not in skip))}'
            '</td></tr>' for ev in events]
    return _table("events", "Last events", ("UTC", "event", ""), rows, "No events yet.")


def captions(doc: dict[str, Any], query: str) -> str:
    found = search(doc, query)
    if not found:
        return f'<p class="empty">{e("No caption holds " + repr(query)) if query else "No captions yet."}</p>'
    items = "".join(f'<li><span class="when">{e((c["time"] or "")[:19])}</span> <span class="path">{e(c["path"])}</span>'
                    f'<p>{e(c["text"])}</p></li>' for c in found[:100])
    return f'<p>{len(found)} caption(s){" holding " + e(repr(query)) if query else ""}</p><ul class="captions">{items}</ul>'
