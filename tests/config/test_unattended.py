"""[notify], [health] and [bandwidth]: every problem names its key, its value (never a URL's
token) and what was expected; URLs are loaded like the API key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mavi_sync.config import build_config, load_config
from mavi_sync.errors import ConfigError


def problems(**tables: Any) -> str:
    with pytest.raises(ConfigError) as info:
        build_config({"folders": [{"path": "/cam"}], **tables})
    return str(info.value)


def test_defaults_send_nothing_cap_nothing_and_hold_nothing() -> None:
    c = build_config({"folders": [{"path": "/cam"}]})
    assert c.notify.targets == () and not c.health.ping.is_set()
    assert c.bandwidth.limit.rate_at(0) is None and c.bandwidth.windows.open_at(0)


def test_a_target_reads_its_url_from_env_file_or_credential() -> None:
    c = build_config({"folders": [{"path": "/cam"}], "notify": {"targets": [
        {"url": {"env": "NTFY_URL"}, "events": ["account", "digest"]},
        {"url": {"credential": "mavi-notify"}}, {"url": {"file": "/etc/mavi-sync/notify.url"}}]}})
    assert c.notify.targets[0].url.env == "NTFY_URL" and c.notify.targets[0].events == ("account", "digest")
    assert c.notify.targets[1].url.credential == "mavi-notify" and len(c.notify.targets[1].events) == 6
    assert c.notify.targets[2].url.file == Path("/etc/mavi-sync/notify.url")


def test_wrong_notify_values_are_named_and_a_url_is_never_shown() -> None:
    text = problems(notify={"digest_at": "8am", "outage_after_s": -1, "targets": [
        {"url": "tgram-token-123", "events": ["account", "everything"]}, {}]})
    assert "notify.digest_at" in text and "'8am'" in text and "HH:MM" in text
    assert "notify.outage_after_s" in text
    assert "notify.targets[0].events" in text and "'everything'" in text
    assert "notify.targets[0].url" in text and "tgram-token-123" not in text and "(hidden)" in text
    assert "notify.targets[1].url" in text and "required" in text


def test_wrong_bandwidth_values_name_the_key_the_value_and_the_format() -> None:
    text = problems(bandwidth={"limit": "08:00,2X", "windows": ["9-17"]})
    assert "bandwidth.limit" in text and "'08:00,2X'" in text and "08:00,2M 23:00,off" in text
    assert "bandwidth.windows" in text and "23:00-07:00" in text


def test_a_fail_url_needs_a_ping_url() -> None:
    assert "health.ping" in problems(health={"fail": {"env": "X"}})


def test_a_clear_text_url_in_the_config_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "cam").mkdir()
    path = tmp_path / "c.toml"
    path.write_text(f'[[folders]]\npath = "{tmp_path / "cam"}"\n[[notify.targets]]\nurl = "ntfy://tok@host/topic"\n'
                    '[health]\nping = "https://hc-ping.com/uuid"\n')
    path.chmod(0o644)
    warnings = "\n".join(load_config(path).warnings)
    assert "notification URL 1 is written in clear text" in warnings and "notify.targets[0].url env" in warnings
    assert "health ping URL is written in clear text" in warnings
    assert "tok@host" not in warnings and "hc-ping.com/uuid" not in warnings


def test_check_config_names_each_url_by_service_and_origin_and_refuses_an_unusable_one(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    (tmp_path / "cam").mkdir()
    path = tmp_path / "c.toml"
    path.write_text(f'[[folders]]\npath = "{tmp_path / "cam"}"\n[[notify.targets]]\nurl = {{ env = "N1" }}\n'
                    '[[notify.targets]]\nurl = { env = "N2" }\n[health]\nping = { env = "PING" }\n')
    env = {**os.environ, "MAVI_API_KEY": "sk-x", "N1": "tgram://123456789:TOKEN-ONE/456",
           "N2": "nosuch://TOKEN-TWO@host"}
    env.pop("PING", None)
    out = subprocess.run([sys.executable, "-m", "mavi_sync", "check-config", str(path)], capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 1
    assert "notify 1    tgram (env N1): account, outage" in out.stdout
    assert "notify 2    nosuch (env N2): Apprise does not read this nosuch:// URL" in out.stdout
    assert "health ping MISSING" in out.stdout and "environment variable PING" in out.stdout
    assert "the notify 2 URL is not one Apprise reads, no health ping URL" in out.stderr
    assert "TOKEN" not in out.stdout + out.stderr


def test_fleet_takes_a_url_without_password_and_names_a_node() -> None:
    c = build_config({"folders": [{"path": "/cam"}], "fleet": {"database": "postgresql://n@db:5432/mavi",
                                                                 "node": "barn-3"}})
    assert c.fleet.database == "postgresql://n@db:5432/mavi" and c.fleet.node == "barn-3"
    assert c.fleet.password.credential == "mavi-fleet-password" and c.fleet.password.env == "MAVI_FLEET_PASSWORD"
    text = problems(fleet={"database": "postgresql://n:s3cr3t-pw@db/mavi", "node": "no spaces"})
    assert "fleet.database" in text and "s3cr3t-pw" not in text and "without its password" in text
    assert "fleet.node" in text and "'no spaces'" in text
