"""Images that leave together: an image ready to leave takes the queued images behind it
that carry the same fields into its request (up to `image_batch_files`), and each image's
outcome is handed back as soon as its request is answered, to be recorded at once.

The engine owns the queue and the recording; this module only decides what goes with whom
(`gather`) and in which order the attempts come (`attempts`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

from mavi_sync.api.client import Client
from mavi_sync.api.image import batch_key
from mavi_sync.errors import MaviSyncError
from mavi_sync.ledger.store import Ledger
from mavi_sync.pipeline.outcome import Attempt
from mavi_sync.pipeline.staging import Staging
from mavi_sync.pipeline.sending import Ready, send, send_images


@dataclass
class Group:
    """The images sent together, what else was taken off the queue on the way (sent alone
    after them), and every path taken (the engine hands them back when done)."""

    images: list[Ready]
    extra: list["Ready | Attempt"] = field(default_factory=list)
    taken: list[Path] = field(default_factory=list)

    def claimed(self) -> list[Ready]:
        """Every row this group claimed: released whatever becomes of the sending."""
        return self.images + [item for item in self.extra if isinstance(item, Ready)]


def gather(first: Ready, limit: int, next_path: Callable[[], Optional[Path]],
           prepare: Callable[[Path], "Ready | Attempt | None"],
           failed: Callable[[Path, MaviSyncError], bool], stop: threading.Event) -> Group:
    """The images with `first`'s fields queued behind it, taken while the queue holds them.
    Taken on the way is at most one file that is not such an image (so a video never waits
    behind more than one batch). `failed(path, error)` says whether to stop gathering."""
    key = batch_key(first.job)
    group = Group([first])
    while len(group.images) < limit and not stop.is_set():
        path = next_path()
        if path is None:
            break
        group.taken.append(path)
        try:
            ready = prepare(path)
        except MaviSyncError as exc:
            if failed(path, exc):
                break
            continue
        if isinstance(ready, Ready) and ready.job.target == "image" and batch_key(ready.job) == key:
            group.images.append(ready)
        elif ready is not None:
            group.extra.append(ready)
            if isinstance(ready, Ready):
                break
    return group


def attempts(group: Group, client: Client, ledger: Ledger, staging: Staging) -> Iterator[Attempt]:
    """Each attempt of the group as soon as it is known: the images' per request, then the rest."""
    waiting = list(group.extra)
    try:
        yield from send_images(group.images, client, ledger, staging)
        while waiting:
            item = waiting.pop(0)
            yield send(item, client, ledger, staging) if isinstance(item, Ready) else item
    finally:  # cut short (the ledger failed): what was made for the rest goes too
        for item in waiting:
            if isinstance(item, Ready) and item.staged is not None:
                staging.release(item.staged)
