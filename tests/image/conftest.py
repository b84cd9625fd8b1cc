"""The image tests' fixtures: podman (skipped with the reason where it cannot run), the image
built once per session on the Debian base, and a container against the emulator."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.image.box import Box
from tests.image.engine import IMAGE, Podman, containers_conf, unusable


def record_figure(name: str, **values: Any) -> None:
    """Append a measured figure to $MAVI_FIGURES (docs/guides/container.md quotes them)."""
    target = os.environ.get("MAVI_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"suite": f"image {name}", **values}) + "\n")


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    reason = unusable()
    if reason:
        pytest.skip(reason)
    engine = Podman(containers_conf(tmp_path_factory.mktemp("podman")))
    reason = engine.works()
    if reason:
        pytest.skip(reason)
    return engine


@pytest.fixture(scope="session")
def image(podman: Podman) -> Podman:
    """The image, built by `make image` on the Debian base (layers cached between runs)."""
    base = podman.base()
    seconds = podman.build(base)
    size = podman.inspect(IMAGE)["Size"]
    record_figure("build", build_s=round(seconds, 1), size_mb=round(size / 1e6))
    return podman


@pytest.fixture
def box(image: Podman, emulator, tmp_path: Path) -> Iterator[Callable[..., Box]]:  # type: ignore[no-untyped-def]
    made: list[Box] = []

    def make(target: str = "image") -> Box:
        made.append(Box(image, tmp_path / f"box{len(made)}", emulator.url, target))
        return made[-1]

    yield make
    for b in made:
        b.close()
