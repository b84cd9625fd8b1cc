"""Does the account answer, and take the key? The cheapest question the API documents.

A pause's trial is a real request (pauses.py): a queued file's upload when one makes it,
else this one. `POST /serve/api/v1/list_videos` with one video per page (../shared/api:
"metadata/list 1–5 per second") is answered with the same business codes as an upload:
`0401` for a bad key, `0403` for a disabled account, so it says whether a key works and
the API is up. It costs no credits, so it cannot say whether credits are back: only an
upload tells that (`0402`).
"""

from __future__ import annotations

from mavi_sync.api.transport import Transport
from mavi_sync.api.video import LIST
from mavi_sync.config.secrets import Secret


def check(t: Transport, base_url: str, key: Secret) -> None:
    """One list_videos request for one video. Returns when the key is taken; raises
    AccountError (bad key, disabled), TransientError (Unreachable: no answer at all)."""
    t.request("POST", base_url + LIST, dialect="v1", what="account check", key=key,
              json_body={"page": 1, "size": 1})
