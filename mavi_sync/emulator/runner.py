"""Running the emulator: in the foreground (`mavi-sync emulator`) or on a background
thread with its own event loop (tests, benchmarks, `make demo`)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Optional

from aiohttp import web

from mavi_sync.emulator.app import Emulator, Settings
from mavi_sync.emulator.faults import Faults

# aiohttp logs a line for every connection the emulator cuts on purpose.
for name in ("aiohttp.server", "aiohttp.access", "aiohttp.web", "asyncio"):
    logging.getLogger(name).setLevel(logging.CRITICAL)


class EmulatorServer:
    """An Emulator listening on 127.0.0.1; `with EmulatorServer(...) as s: s.url`."""

    def __init__(self, data_dir: Path, settings: Settings = Settings(), faults: Faults = Faults(),
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = Emulator(data_dir, settings, faults)
        self.host = host
        self.port = port
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.emulator.app(), access_log=None, shutdown_timeout=0.25,
                                     handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=128, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def start(self) -> "EmulatorServer":
        """Start on a background thread; return once it accepts connections."""
        self._thread = threading.Thread(target=self._run, name="emulator", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(data_dir: Path, settings: Settings, faults: Faults, host: str, port: int) -> None:
    """Run in the foreground until SIGINT/SIGTERM."""
    app = Emulator(data_dir, settings, faults).app()
    web.run_app(app, host=host, port=port, access_log=None, print=None, shutdown_timeout=1.0)
