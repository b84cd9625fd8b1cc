"""The status page in the browser, and its JSON API (`[web] listen`): what every folder has
done and has left, what is in flight, why uploads wait, what failed or was refused and why,
the last events and security captions; pause, resume and retry from the page.

    server.py    the listener: its own threads, bounded, never in the way of uploads
    app.py       the routes: a request in, a response out
    access.py    who may read and who may act (loopback, password, cross-site checks)
    sessions.py  the session tokens, in an HttpOnly cookie, spent by each action
    board.py     the document the page shows, built at most once a second
    page.py      that document as HTML (works without JavaScript); assets.py its style and script
    actions.py   pause, resume, retry, through the owners the command line uses
    health.py    /healthz
"""

from mavi_sync.web.board import Sources
from mavi_sync.web.server import WebServer

__all__ = ["Sources", "WebServer"]
