"""Where the config is looked up (docs/guides/configuration.md, "Where the config is looked
up"): `--config`, then $MAVI_SYNC_CONFIG, systemd's $CONFIGURATION_DIRECTORY, the user's
~/.config/mavi-sync/config.toml, /etc/mavi-sync/config.toml; and what check-config prints for
a config with problems (the same page, "What validation tells you")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mavi_sync.config import default_config_path
from tests.conftest import REPO


def test_the_config_is_looked_up_in_the_documented_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    user = tmp_path / ".config" / "mavi-sync" / "config.toml"
    both = {"MAVI_SYNC_CONFIG": "/srv/a.toml", "CONFIGURATION_DIRECTORY": "/etc/credstore-like:/other"}
    assert default_config_path(both) == Path("/srv/a.toml")
    assert default_config_path({"CONFIGURATION_DIRECTORY": "/etc/mavi-sync:/other"}) == Path("/etc/mavi-sync/config.toml")
    assert default_config_path({}) == Path("/etc/mavi-sync/config.toml")  # no user config: the system's
    user.parent.mkdir(parents=True)
    user.write_text("", encoding="utf-8")
    assert default_config_path({}) == user


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mavi_sync", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MAVI_API_KEY": "sk-mavi-lookup-test", **env})


def test_a_config_named_on_the_command_line_wins(tmp_path: Path) -> None:
    named, from_env = tmp_path / "named.toml", tmp_path / "env.toml"
    for path in (named, from_env):
        path.write_text(f'[[folders]]\npath = "{tmp_path}"\ntarget = "image"\n', encoding="utf-8")
    env = {"MAVI_SYNC_CONFIG": str(from_env), "HOME": str(tmp_path)}
    assert run("check-config", env=env).stdout.startswith(f"{from_env}: OK")
    assert run("check-config", str(named), env=env).stdout.startswith(f"{named}: OK")


def test_the_guides_sample_is_what_check_config_prints(tmp_path: Path) -> None:
    page = (REPO / "docs" / "guides" / "configuration.md").read_text(encoding="utf-8")
    section = page.split("\n## What validation tells you\n", 1)[1]
    sample = re.findall(r"^```\n(.*?)^```", section, flags=re.S | re.M)[0]
    config = tmp_path / "config.toml"
    config.write_text(f'[[folders]]\npath = "{tmp_path}"\ntimezone = "Europe/Berln"\nrecursiv = true\n',
                      encoding="utf-8")
    shown = run("check-config", str(config), env={})
    assert shown.returncode == 2
    assert shown.stderr.replace(str(config), "config.toml") == sample


def test_paths_start_at_the_configs_folder_and_a_tilde_is_the_users_home(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from mavi_sync.config import load_config
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    (tmp_path / "home" / "media").mkdir(parents=True)  # a folder must exist
    config.write_text('[ledger]\npath = "ledger.sqlite3"\n[[folders]]\npath = "~/media"\n', encoding="utf-8")
    loaded = load_config(config)
    assert loaded.ledger.path == tmp_path / "etc" / "ledger.sqlite3"
    assert loaded.folders[0].path == tmp_path / "home" / "media"


def test_without_an_api_table_the_config_talks_to_memories_ai(tmp_path: Path) -> None:
    """README.md, "A first config": for real, drop the [api] table; its defaults are memories.ai."""
    from mavi_sync.config.parse import build_config
    api = build_config({"folders": [{"path": str(tmp_path)}]}).api
    assert [api.base_url, api.security_base_url, api.asset_base_url] == [
        "https://api.memories.ai", "https://security.memories.ai", "https://mavi-backend.memories.ai"]
