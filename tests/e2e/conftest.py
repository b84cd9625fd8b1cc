"""Fixtures for tests that run the daemon as a subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.e2e.rig import Daemon


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Make daemons in tmp_path; each is killed at teardown if the test left it running."""
    made: list[Daemon] = []

    def make(url: str, **folder: Any) -> Daemon:
        made.append(Daemon(tmp_path, url, **folder))
        return made[-1]

    yield make
    for d in made:
        d.close()


@pytest.fixture
def daemon(emulator, spawn: Callable[..., Daemon]) -> Daemon:  # type: ignore[no-untyped-def]
    return spawn(emulator.url)
