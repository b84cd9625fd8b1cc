"""One mavi-sync container against the emulator on this host, laid out as
docs/guides/container.md says: the config in /config (read-only), the ledger and staging on
/data, the media mounted read-only at /media, the API key as a podman secret."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import API_KEY
from tests.e2e.rig import until
from tests.image.engine import IMAGE, Podman

UID = 10001  # the image's user (Containerfile)
STOP_TIMEOUT_S = 40  # the docs' --stop-timeout: above the daemon's shutdown_grace_s (30)


class Container:
    """A daemon's container: started detached with `args`, its `status` read through exec."""

    def __init__(self, podman: Podman) -> None:
        self.podman = podman
        self.name = f"mavi-test-{uuid.uuid4().hex[:10]}"
        self.args: list[str] = ["--network", "host"]  # the emulator listens on the host's 127.0.0.1
        self.secrets: list[str] = []

    def secret(self, key_file: Path, target: str) -> None:
        """Hand `key_file` to the container as /run/secrets/`target` (a podman secret; their
        names are global, so each container makes its own)."""
        name = f"{self.name}-{len(self.secrets)}"
        self.podman("secret", "create", name, str(key_file))
        self.secrets.append(name)
        self.args += ["--secret", f"{name},target={target}"]

    def run(self, *extra: str) -> float:
        """Start the daemon's container (detached); return the seconds until `status` says it runs."""
        started = time.monotonic()
        self.podman("run", "-d", "--name", self.name, *self.args, *extra, IMAGE)
        return self.wait_running(started)

    def start(self) -> float:
        """`podman start` the stopped or killed container again; the seconds until it runs."""
        started = time.monotonic()
        self.podman("start", self.name)
        return self.wait_running(started)

    def wait_running(self, started: float) -> float:
        """Wait (bounded) for a heartbeat written since `started`: the daemon is PID 1 in every
        container, so only the heartbeat's age tells a new daemon from a killed one."""
        def fresh() -> bool:
            if not self.state().get("Running"):
                raise AssertionError(f"the container stopped; its log ends:\n{self.logs()[-3000:]}")
            st = self.status()
            age = st.get("heartbeat_age_s")
            return bool(st.get("running")) and age is not None and age <= time.monotonic() - started
        until(fresh, 60, 0.2)
        return time.monotonic() - started

    def status(self) -> dict[str, Any]:
        """`mavi-sync status --json`, run inside the container."""
        done = self.podman("exec", self.name, "mavi-sync", "status", "--json", check=False, timeout=60)
        return dict(json.loads(done.stdout)) if done.returncode == 0 else {}

    def count(self, state: str) -> int:
        return sum(self.status().get("counts", {}).get(state, {}).values())

    def state(self) -> dict[str, Any]:
        return dict(self.podman.inspect(self.name)["State"])

    def logs(self) -> str:
        done = self.podman("logs", self.name, check=False)
        return done.stdout + done.stderr

    def close(self) -> None:
        self.podman("rm", "-f", "-t", "0", self.name, check=False)
        for name in self.secrets:
            self.podman("secret", "rm", name, check=False)


class Box(Container):
    """The layout the guide's `podman run` shows, with a config fast enough for tests."""

    def __init__(self, podman: Podman, root: Path, url: str, target: str = "image") -> None:
        super().__init__(podman)
        self.config, self.data, self.media = root / "config", root / "data", root / "media"
        self.camera = self.media / "camera"
        for d in (self.config, self.data, self.camera):
            d.mkdir(parents=True)
        self.data.chmod(0o700)
        os.chown(self.data, UID, UID)
        # No [ledger] path: the image's STATE_DIRECTORY=/data puts it on the volume.
        (self.config / "config.toml").write_text(f"""
log_level = "debug"
[api]
base_url = "{url}"
security_base_url = "{url}"
asset_base_url = "{url}"
[uploads]
rate_limit_per_minute = 6000
query_rate_limit_per_second = 100
status_poll_initial_s = 0.2
status_poll_max_s = 0.5
retry_initial_s = 0.5
retry_max_s = 1
account_probe_s = 2
[[folders]]
path = "/media/camera"
target = "{target}"
settle_s = 1
""", encoding="utf-8")
        key = root / "api-key"
        key.write_text(API_KEY, encoding="utf-8")
        self.secret(key, "mavi-api-key")
        key.unlink()
        self.args += ["--stop-timeout", str(STOP_TIMEOUT_S), "-v", f"{self.config}:/config:ro",
                      "-v", f"{self.data}:/data", "-v", f"{self.media}:/media:ro"]



def from_compose(podman: Podman, compose: dict[str, Any], root: Path) -> Container:
    """The example's one service as podman arguments, its host paths moved under `root`:
    ./x → root/x, an absolute path (the NAS share) → root/share/path."""
    service = compose["services"]["mavi-sync"]

    def host(path: str) -> Path:
        return root / path[2:] if path.startswith("./") else root / "share" / path.lstrip("/")

    c = Container(podman)
    if "user" in service:
        c.args += ["--user", service["user"]]
    for volume in service["volumes"]:
        source, target, *mode = volume.split(":")
        c.args += ["-v", ":".join([str(host(source)), target, *mode])]
    for name in service.get("secrets", []):
        c.secret(host(compose["secrets"][name]["file"]), name)
    grace = service["stop_grace_period"]
    assert grace.endswith("s"), grace
    c.args += ["--stop-timeout", grace[:-1]]
    return c
