"""The page's style sheet and script, served from /static/ (the page's Content-Security-Policy
allows no inline script or style). Kept as text here rather than as package data: the
wheel and the container image carry them with the code, whatever installs it.

The script only makes the page live: every two seconds it fetches /fragment (the same
HTML the server renders, page.py) and swaps each data-live region whose HTML changed; a
form it sends itself (the answer shown in #notice, the regions refreshed at once). The
page works without it.
"""

from __future__ import annotations

CSS = """
:root { color-scheme: light dark; --ok: #2e7d32; --bad: #c62828; --held: #ef6c00; --muted: #777; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 1em 2em; }
header h1 { font-size: 1.3em; margin: .6em 0 .2em; }
h2 { font-size: 1.05em; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2em .5em; border-bottom: 1px solid #8884; vertical-align: top; }
td.path { word-break: break-all; font-family: ui-monospace, monospace; font-size: .92em; }
td.error { color: var(--muted); }
progress { width: 100%; min-width: 8em; }
#overall { height: 1.1em; }
#state.ok { color: var(--ok); } #state.bad { color: var(--bad); }
.held { border-left: 4px solid var(--held); padding: .3em .6em; background: #ef6c0014; }
.held[data-kind=account], .held[data-kind=ledger] { border-color: var(--bad); background: #c6282814; }
#controls { display: flex; gap: 1em; flex-wrap: wrap; align-items: center; }
#controls form { margin: 0; }
#notice:empty { display: none; }
#notice { padding: .3em .6em; background: #2e7d3214; border-left: 4px solid var(--ok); }
#notice.bad { background: #c6282814; border-color: var(--bad); }
[data-state=confirmed] { color: var(--ok); } [data-state=failed], [data-state=refused] { color: var(--bad); }
.empty { color: var(--muted); }
tr.error td, tr.warning td { color: var(--bad); }
ul.captions { list-style: none; padding: 0; } ul.captions li { margin: .4em 0; }
ul.captions p { margin: .1em 0 0 1em; }
.stale #live { opacity: .6; }
footer { margin-top: 2em; color: var(--muted); }
"""

JS = """
"use strict";
(function () {
  const EVERY_MS = 2000;
  const notice = document.getElementById("notice");

  function say(text, bad) {
    if (!notice) return;
    notice.textContent = text;
    notice.className = bad ? "bad" : "";
  }

  async function refresh() {
    try {
      const answer = await fetch("/fragment" + location.search, {credentials: "same-origin"});
      if (!answer.ok) throw new Error("HTTP " + answer.status);
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      for (const region of fresh.querySelectorAll("[data-live]")) {
        const here = document.getElementById(region.id);
        if (here && here.innerHTML !== region.innerHTML) here.innerHTML = region.innerHTML;
      }
      document.body.classList.remove("stale");
    } catch (err) {
      document.body.classList.add("stale");
    }
  }

  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (form.method.toLowerCase() !== "post") return;
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      const answer = await fetch(form.action, {
        method: "POST", credentials: "same-origin", headers: {"Accept": "application/json"},
        body: new URLSearchParams(new FormData(form)),
      });
      const told = await answer.json();
      say(told.message, !told.ok);
    } catch (err) {
      say("the daemon did not answer: " + err, true);
    } finally {
      if (button) button.disabled = false;
      refresh();
    }
  });

  setInterval(refresh, EVERY_MS);
})();
"""
