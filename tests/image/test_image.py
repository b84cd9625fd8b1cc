"""The container image against the emulator on this host (host networking): a dropped file
is confirmed, a new container on the same /data sends nothing again, a kill mid-upload loses
nothing and sends no video twice, SIGTERM lets an upload finish within the grace time, and
`status` answers through `podman exec`. Run by `make image-test` (root, podman)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
import yaml

from mavi_sync.config.parse import build_config
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from mavi_sync.emulator.admin import Admin
from mavi_sync.errors import ConfigError
from tests.conftest import API_KEY, REPO
from tests.e2e.rig import sha, until
from tests.image.box import STOP_TIMEOUT_S, UID, Box, from_compose
from tests.image.conftest import record_figure
from tests.image.engine import IMAGE, Podman

GRACE_S = 30  # the daemon's default shutdown_grace_s, which the configs here keep
UPLOAD_S = 6  # how long the slowed link takes to carry one test video


def drop(src: Path, folder: Path) -> Path:
    """Move a finished file into the watched folder in one step (as a camera's FTP upload ends)."""
    target = folder / src.name
    os.replace(src, target)
    return target


def test_the_image_runs_mavi_sync_as_uid_10001_with_config_data_and_a_health_check(image: Podman) -> None:
    meta = image.inspect(IMAGE)
    config = meta["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["mavi-sync"] and config["Cmd"] == ["run"]
    assert env["MAVI_SYNC_CONFIG"] == "/config/config.toml" and env["STATE_DIRECTORY"] == "/data"
    assert list(config["Volumes"]) == ["/data"] and config["StopSignal"] == "SIGTERM"
    assert meta["Healthcheck"]["Test"] == ["CMD", "mavi-sync-healthcheck"]  # kept: built in docker format
    # The key files and the build's CA bundle never land in a layer; pip is not left behind.
    listing = image("run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                    "ls /run/secrets; ls /opt/mavi-sync/bin; id -u").stdout.split()
    assert "cacert" not in listing and "pip" not in listing and listing[-1] == str(UID)


def test_a_dropped_file_is_confirmed_and_a_new_container_sends_nothing_again(
        box: Callable[..., Box], admin: Admin, tmp_path: Path) -> None:
    b = box()
    start_s = b.run()
    # The daemon is PID 1 and not root.
    uid = b.podman("exec", b.name, "sh", "-c", "grep ^Uid: /proc/1/status").stdout.split()[1]
    assert uid == str(UID)
    assert '"watch": {"/media/camera": "inotify"}' in b.logs()  # inotify through the bind mount
    assert API_KEY not in json.dumps(b.podman.inspect(b.name))  # a secret, not an environment variable
    first = drop(write_image(tmp_path / "IMG_0001.jpg", ImageSpec(color=(10, 200, 30))), b.camera)
    until(lambda: b.count("confirmed") == 1, 60, 0.5)
    assert (b.data / "ledger.sqlite3").is_file()  # on the volume, not in the container
    health = b.podman("healthcheck", "run", b.name, check=False)
    assert health.returncode == 0, health.stdout + health.stderr
    stopped = time.monotonic()
    b.podman("stop", b.name, timeout=STOP_TIMEOUT_S + 20)
    stop_s = time.monotonic() - stopped
    assert b.state()["ExitCode"] == 0, b.logs()[-3000:]
    b.podman("rm", b.name)
    # A new container on the same /data: the ledger knows the first file.
    restart_s = b.run()
    drop(write_image(tmp_path / "IMG_0002.jpg", ImageSpec(color=(200, 10, 30))), b.camera)
    until(lambda: b.count("confirmed") == 2, 60, 0.5)
    sent = Counter(u["sha256"] for u in admin.uploads())
    assert sum(sent.values()) == 2 and sent[sha(first)] == 1, sent
    record_figure("start", start_s=round(start_s, 2), restart_s=round(restart_s, 2), idle_stop_s=round(stop_s, 2))


def slow_videos(tmp_path: Path, admin: Admin, count: int) -> list[Path]:
    """`count` small videos, and the emulator's link slowed so that each takes UPLOAD_S to send."""
    videos = [write_video(tmp_path / f"VID_{i:04d}.mp4", VideoSpec(seconds=4, size=(320, 240), fps=15,
                                                                   creation_time=f"2025-10-20T09:0{i}:00.000000Z"))
              for i in range(count)]  # each its own content (the same bytes twice would be a duplicate)
    admin.faults(link_bytes_per_s=max(v.stat().st_size for v in videos) / UPLOAD_S)
    return videos


def test_sigterm_mid_upload_lets_it_finish_within_the_grace_time(
        box: Callable[..., Box], admin: Admin, tmp_path: Path) -> None:
    b = box("video")
    b.run()
    video, = slow_videos(tmp_path, admin, 1)
    digest = sha(video)
    drop(video, b.camera)
    until(lambda: b.count("uploading") == 1, 30, 0.2)
    stopped = time.monotonic()
    b.podman("stop", b.name, timeout=STOP_TIMEOUT_S + 20)  # SIGTERM; SIGKILL only after --stop-timeout
    stop_s = time.monotonic() - stopped
    assert b.state()["ExitCode"] == 0, b.logs()[-3000:]
    assert stop_s < GRACE_S
    assert [u["sha256"] for u in admin.uploads("video")] == [digest]  # the upload finished, not cut off
    assert '"event": "daemon_stopped"' in b.logs()
    admin.faults(link_bytes_per_s=0)
    b.start()
    until(lambda: b.count("confirmed") == 1, 60, 0.5)
    assert [u["sha256"] for u in admin.uploads("video")] == [digest]
    record_figure("sigterm", stop_mid_upload_s=round(stop_s, 2), upload_s=UPLOAD_S)


def test_a_kill_mid_upload_loses_nothing_and_sends_no_video_twice(
        box: Callable[..., Box], admin: Admin, tmp_path: Path) -> None:
    b = box("video")
    b.run()
    videos = slow_videos(tmp_path, admin, 2)
    digests = sorted(sha(v) for v in videos)
    for video in videos:
        drop(video, b.camera)
    until(lambda: b.count("uploading") >= 1, 30, 0.2)
    time.sleep(UPLOAD_S / 3)  # well into the body
    in_flight = admin.stats()["in_flight"]
    b.podman("kill", b.name)  # SIGKILL: no grace at all
    assert b.state()["ExitCode"] == 137
    admin.faults(link_bytes_per_s=0)
    b.start()
    until(lambda: b.count("confirmed") == 2, 90, 0.5)
    sent = Counter(u["sha256"] for u in admin.uploads("video"))
    assert sorted(sent) == digests and set(sent.values()) == {1}, sent  # none lost, none twice
    assert in_flight >= 1  # the kill did cut a request off


def test_any_user_a_key_from_the_environment_and_a_read_only_root(
        box: Callable[..., Box], admin: Admin, tmp_path: Path) -> None:
    b = box()
    os.chown(b.data, 4242, 4242)  # a NAS user's uid:gid, unknown to the image
    photo = drop(write_image(tmp_path / "IMG_0003.jpg", ImageSpec(color=(30, 30, 200))), b.camera)
    done = b.podman("run", "--rm", "--network", "host", "--user", "4242:4242", "--read-only",
                    "-e", "MAVI_API_KEY", "-v", f"{b.config}:/config:ro", "-v", f"{b.data}:/data",
                    "-v", f"{b.media}:/media:ro", IMAGE, "upload", f"/media/camera/{photo.name}",
                    env={"MAVI_API_KEY": API_KEY}, timeout=120)
    assert done.stdout.split()[0] == "confirmed", done.stdout + done.stderr
    assert (b.data / "ledger.sqlite3").stat().st_uid == 4242
    assert [u["sha256"] for u in admin.uploads()] == [sha(photo)]


def guide_config() -> str:
    """The config on docs/guides/container.md (its first TOML block)."""
    page = (REPO / "docs" / "guides" / "container.md").read_text(encoding="utf-8")
    return re.findall(r"^```toml\n(.*?)^```", page, flags=re.S | re.M)[0]


def test_the_compose_example_with_the_guides_config_confirms_a_file(
        image: Podman, emulator, admin: Admin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    compose = yaml.safe_load((REPO / "compose.example.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["mavi-sync"]
    assert service["build"] == {"context": ".", "dockerfile": "Containerfile"}
    assert int(service["stop_grace_period"].rstrip("s")) > GRACE_S
    # The layout the example expects beside it; the emulator stands in for memories.ai and is
    # reached on the host's loopback (the example's own network is the engine's default).
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(
        guide_config() + f'[api]\nbase_url = "{emulator.url}"\nsecurity_base_url = "{emulator.url}"\n'
        f'asset_base_url = "{emulator.url}"\n', encoding="utf-8")
    uid, gid = (int(n) for n in service["user"].split(":"))
    (tmp_path / "data").mkdir(mode=0o700)
    os.chown(tmp_path / "data", uid, gid)
    camera = tmp_path / "share" / "volume1" / "photo" / "camera"
    camera.mkdir(parents=True)
    key = tmp_path / compose["secrets"]["mavi-api-key"]["file"]
    key.write_text(API_KEY + "\n", encoding="utf-8")
    key.chmod(0o600)
    c = from_compose(image, compose, tmp_path)
    try:
        c.run()
        photo = drop(write_image(tmp_path / "IMG_0004.jpg", ImageSpec(color=(90, 90, 90))), camera)
        until(lambda: c.count("confirmed") == 1, 90, 0.5)  # the guide's config keeps the 10 s settle time
        assert [u["sha256"] for u in admin.uploads("image")] == [sha(photo)]
        assert (tmp_path / "data" / "ledger.sqlite3").stat().st_uid == uid
        c.podman("stop", c.name, timeout=STOP_TIMEOUT_S + 20)
        assert c.state()["ExitCode"] == 0
    finally:
        c.close()


def web_page_in_this_build() -> bool:
    """Whether the config takes a [web] table (the status page's branch is merged)."""
    try:
        build_config({"web": {"listen": "127.0.0.1:8080"}, "folders": [{"path": "/"}]})
    except ConfigError:
        return False
    return True


def test_the_health_check_asks_the_web_pages_healthz(box: Callable[..., Box]) -> None:
    if not web_page_in_this_build():
        pytest.skip("the config has no [web] table yet (the status page is not merged): "
                    "the health check falls back to `mavi-sync status`, tested above")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    b = box()
    with open(b.config / "config.toml", "a", encoding="utf-8") as config:
        config.write(f'[web]\nlisten = "127.0.0.1:{port}"\n')
    b.run()
    check = b.podman("exec", b.name, "mavi-sync-healthcheck", check=False)
    assert check.returncode == 0 and f"127.0.0.1:{port}/healthz answered 200" in check.stdout, check.stdout
    assert b.podman("healthcheck", "run", b.name, check=False).returncode == 0
