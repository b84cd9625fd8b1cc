"""Every video of a namespace on the server, page by page (list_videos), each once.

The listing is newest first: a video uploaded while it is read pushes the rest down a
place, so the video at the end of a page comes again at the start of the next. A server
may also cap the page size below what was asked. So: videos are kept by their number (a
repeat is counted, not kept twice), the page size is the server's own when it says, and the
reading stops at a short page, at the total the server gives, or at a page with nothing new
(a server that ignores `page` would otherwise be read for ever).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from mavi_sync.api.client import Client

PAGE_SIZE = 500  # the documented default is 200 and no maximum is documented; 500 is a fifth of the requests
SHA_TAG = re.compile(r"sha256:([0-9a-f]{64})")


@dataclass
class Listing:
    """What the server listed for one namespace."""

    namespace: str
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)  # video_no → the server's item
    repeats: int = 0  # items listed again under a number already seen
    requests: int = 0
    seconds: float = 0.0


def sha_of(video: dict[str, Any]) -> Optional[str]:
    """The content hash a video's `sha256:` tag carries, or None (pure)."""
    for tag in video.get("tags") or ():
        m = SHA_TAG.fullmatch(str(tag))
        if m:
            return m.group(1)
    return None


def video_no(video: dict[str, Any]) -> Optional[str]:
    number = video.get("video_no") or video.get("videoNo")
    return str(number) if number else None


OnPage = Callable[[Listing, list[tuple[str, dict[str, Any]]]], None]


def list_all(client: Client, namespace: str, *, page_size: int = PAGE_SIZE, on_page: Optional[OnPage] = None) -> Listing:
    """Every video of `namespace`, each once; `on_page` gets each page's new (number, video)
    while the next page's slot is waited for. Raises ApiError when a page cannot be had."""
    out = Listing(namespace)
    started = time.monotonic()
    page = 1
    while True:
        got = client.list_videos(namespace, page, page_size)
        out.requests += 1
        new = []
        for video in got.videos:
            number = video_no(video)
            if number is None:
                continue
            if number in out.videos:
                out.repeats += 1
            else:
                out.videos[number] = video
                new.append((number, video))
        if on_page is not None:
            on_page(out, new)
        size = min(page_size, got.page_size or page_size)
        done = got.total is not None and len(out.videos) >= got.total
        if done or not new or len(got.videos) < size:
            break
        page += 1
    out.seconds = time.monotonic() - started
    return out
