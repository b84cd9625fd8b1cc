"""The lock is what every install takes: it pins each distribution that the package, with all
its extras, pulls in, and the environment the tests run in holds exactly those versions."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = {"test", "emulator", "bench", "fleet"}  # the Makefile's EXTRAS


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not NAME==VERSION"
            pins[_norm(name)] = version
    return pins


def wanted(name: str, extras: set[str], seen: set[str]) -> None:
    """Every distribution `name` needs, with `extras`, as installed here (the closure)."""
    key = _norm(name)
    if key in seen:
        return
    seen.add(key)
    for text in metadata.requires(name) or []:
        req = Requirement(text)
        if req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in extras | {""}):
            wanted(req.name, set(req.extras), seen)


def test_every_dependency_of_the_package_and_its_extras_is_locked_at_the_installed_version() -> None:
    pins = locked()
    needed: set[str] = set()
    wanted("mavi-sync", EXTRAS, needed)
    needed.discard("mavi-sync")
    assert needed, "the package's requirements were not read"
    missing = sorted(needed - set(pins))
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    drift = {name: (metadata.version(name), pins[name]) for name in needed if metadata.version(name) != pins[name]}
    assert not drift, f"installed != locked (reinstall with `make venv`): {drift}"


def test_the_build_backend_and_pip_are_locked_too() -> None:
    pins = locked()
    assert {"pip", "setuptools", "wheel"} <= set(pins)
    backend = (ROOT / "pyproject.toml").read_text()
    assert Requirement(re.search(r'requires = \["(setuptools[^"]*)"', backend).group(1)).specifier.contains(
        pins["setuptools"])
