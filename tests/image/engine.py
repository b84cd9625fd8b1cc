"""podman for the image tests: whether it can run here (and why not), the flags this kind
of machine needs, the Debian base made with debootstrap, and the image built from it."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

from tests.conftest import REPO

HERE = Path(__file__).resolve().parent
# One tag per checkout: two worktrees testing at once never swap each other's image.
IMAGE = f"localhost/mavi-sync:test-{hashlib.sha1(str(REPO).encode()).hexdigest()[:8]}"
LABEL = "org.opencontainers.image.title=mavi-sync"  # the Containerfile's, on both stages
BASE_CACHE = Path(os.environ.get("MAVI_IMAGE_BASE_CACHE", "/var/tmp/mavi-image-base"))
RELEASE = "bookworm"  # the Debian release of the base: the cache is keyed by it


def unusable() -> Optional[str]:
    """Why the image tests cannot run here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return "podman runs the image on Linux only"
    if os.geteuid() != 0:
        return "the image tests need root (debootstrap makes the base; CI runs them as root: make image-test)"
    missing = [tool for tool in ("podman", "debootstrap") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (as root, `make image-tools` installs Debian's)"
    return None


def containers_conf(directory: Path) -> Path:
    """A containers.conf for podman on this kind of VM: runc (crun refuses hybrid cgroups,
    v1 and v2 at once) and container rlimits within this process's hard limits (podman's
    defaults need CAP_SYS_RESOURCE to raise them; it caps nproc at kernel.pid_max itself)."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], _pid_max())
    lines = ["[containers]", f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]']
    if shutil.which("runc"):
        lines += ["[engine]", 'runtime = "runc"']
    path = directory / "containers.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _pid_max() -> int:
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return 32768


class Podman:
    """podman with the containers.conf above; each call bounded in time."""

    def __init__(self, conf: Path) -> None:
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def __call__(self, *args: str, check: bool = True, timeout: float = 120,
                 env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout,
                              env={**self.env, **(env or {})})
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {done.returncode}:\n{done.stderr[-2000:]}")
        return done

    def inspect(self, what: str) -> dict[str, Any]:
        return dict(json.loads(self("inspect", what).stdout)[0])

    def works(self) -> Optional[str]:
        """Why podman cannot run a container here, or None."""
        done = self("info", check=False, timeout=60)
        if done.returncode != 0:
            return f"podman info failed: {done.stderr.strip().splitlines()[-1:]}"
        return None

    def base(self) -> str:
        """The Debian base image (tests/image/base.sh: cached by release under BASE_CACHE)."""
        done = subprocess.run(["sh", str(HERE / "base.sh")], capture_output=True, text=True, timeout=900,
                              env={**self.env, "RELEASE": RELEASE, "CACHE": str(BASE_CACHE)})
        if done.returncode != 0:
            raise AssertionError(f"making the Debian base failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip().splitlines()[-1]

    def build(self, base: str) -> float:
        """`make image` on `base`, tagged IMAGE; returns the seconds it took. Then removes what
        earlier builds left behind (the image it replaced, their build stages: ~200 MB each
        time the source changed); this build's own stage stays, the layer cache of the next."""
        old, stages = self._ids("reference=" + IMAGE), self._ids("dangling=true")
        started = time.monotonic()
        done = subprocess.run(["make", "-C", str(REPO), "image", f"IMAGE_BASE={base}", f"IMAGE={IMAGE}",
                               "ENGINE=podman"], capture_output=True, text=True, timeout=900, env=self.env)
        if done.returncode != 0:
            raise AssertionError(f"make image failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        seconds = time.monotonic() - started
        replaced = old - self._ids("reference=" + IMAGE)
        made = self._ids("dangling=true") - stages - replaced
        stale = replaced | (stages if made else set())  # a new stage was made: the old ones are stale
        if stale:
            self("rmi", *sorted(stale), check=False)
        return seconds

    def _ids(self, selector: str) -> set[str]:
        """Image IDs of this project (by the Containerfile's label) that `selector` picks."""
        done = self("images", "-q", "--no-trunc", "--filter", f"label={LABEL}", "--filter", selector, check=False)
        return set(done.stdout.split())
