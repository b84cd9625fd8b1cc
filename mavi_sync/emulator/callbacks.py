"""Callbacks the emulated hosts promise (v1 video `callback`, security async results):
queued with the time they are due, posted by one background task while the app runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from mavi_sync.emulator.store import Stats


class Callbacks:
    def __init__(self, stats: Stats) -> None:
        self.stats = stats  # deliveries show in /_admin/stats (replaced on reset: read through owner)
        self._due: list[tuple[float, str, dict[str, Any]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, at: float, url: str, payload: dict[str, Any]) -> None:
        """Post `payload` to `url` once `at` (wall time) has come."""
        self._due.append((at, url, payload))

    async def start(self, app: web.Application) -> None:
        self._tasks.add(asyncio.get_running_loop().create_task(self._deliver()))

    async def stop(self, app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(self) -> None:
        async with ClientSession(timeout=ClientTimeout(total=5)) as session:
            while True:
                await asyncio.sleep(0.05)
                now = time.time()
                due = [c for c in self._due if c[0] <= now]
                self._due = [c for c in self._due if c[0] > now]
                for _, url, payload in due:
                    self.stats.callbacks.append({"url": url, "payload": payload,
                                                 "result": await _post(session, url, payload)})


async def _post(session: ClientSession, url: str, payload: dict[str, Any]) -> str:
    try:
        async with session.post(url, json=payload) as answer:
            return f"HTTP {answer.status}"
    except Exception as exc:  # a callback receiver that is down must not stop the emulator
        return f"failed: {exc.__class__.__name__}"
