"""[web]: where the status page listens (loopback unless a host says otherwise) and its
password, loaded like the API key. Every problem names key, value and expectation; a
password is never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mavi_sync.config import build_config, load_config
from mavi_sync.config.web import is_loopback, split_listen
from mavi_sync.errors import ConfigError


def web(**table: Any) -> Any:
    return build_config({"folders": [{"path": "/cam"}], "web": table}).web


def problems(**table: Any) -> str:
    with pytest.raises(ConfigError) as info:
        build_config({"folders": [{"path": "/cam"}], "web": table})
    return str(info.value)


def test_the_page_is_off_by_default_and_its_password_is_looked_for_like_the_api_key() -> None:
    c = build_config({"folders": [{"path": "/cam"}]})
    assert c.web.listen == ""
    assert c.web.password.env == "MAVI_WEB_PASSWORD" and c.web.password.credential == "mavi-web-password"


@pytest.mark.parametrize("given,listen", [
    ("127.0.0.1:8780", "127.0.0.1:8780"), ("8780", "127.0.0.1:8780"), ("0.0.0.0:8780", "0.0.0.0:8780"),
    ("[::1]:8780", "[::1]:8780"), ("::1:8780", "[::1]:8780"), ("localhost:0", "localhost:0"),
    ("nas.lan:8780", "nas.lan:8780"),
])
def test_listen_takes_host_and_port_and_a_bare_port_stays_on_this_box(given: str, listen: str) -> None:
    assert web(listen=given).listen == listen


@pytest.mark.parametrize("given", ["127.0.0.1", "127.0.0.1:", ":8780", "127.0.0.1:99999", "127.0.0.1:http", "x"])
def test_a_malformed_listen_names_key_value_and_expectation(given: str) -> None:
    text = problems(listen=given)
    assert "web.listen" in text and repr(given) in text and "HOST:PORT" in text and "0.0.0.0:8780" in text


def test_the_password_is_a_table_naming_where_it_is_and_never_shown() -> None:
    assert web(password={"file": "/run/secrets/web"}).password.file == Path("/run/secrets/web")
    assert web(password={"env": "PW"}).password.env == "PW"
    text = problems(password="hunter2", listne="x")
    assert "web.password" in text and "hunter2" not in text and "{ env" in text
    assert "web.listne" in text and "did you mean 'listen'" in text


def test_loopback_is_127_8_and_1_and_localhost_only() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost", "LocalHost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "nas.lan", "localhost.evil.example"))
    assert split_listen("[::1]:80") == ("::1", 80) and split_listen("80") == ("127.0.0.1", 80)


def test_a_password_in_clear_text_in_a_readable_config_is_warned_about(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[[folders]]\npath = "{tmp_path}"\n[web]\nlisten = "0.0.0.0:8780"\n'
                      'password = { value = "hunter2" }\n', encoding="utf-8")
    config.chmod(0o644)
    warnings = " ".join(load_config(config).warnings)
    assert "web page password" in warnings and "clear text" in warnings and "hunter2" not in warnings


def test_check_config_says_where_the_page_listens_and_where_its_password_is(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    (tmp_path / "cam").mkdir()
    path = tmp_path / "c.toml"

    def check(listen: str, **env: str) -> "subprocess.CompletedProcess[str]":
        path.write_text(f'[[folders]]\npath = "{tmp_path / "cam"}"\n[web]\nlisten = "{listen}"\n')
        base = {k: v for k, v in os.environ.items() if k not in ("MAVI_WEB_PASSWORD", "CREDENTIALS_DIRECTORY")}
        return subprocess.run([sys.executable, "-m", "mavi_sync", "check-config", str(path)], capture_output=True,
                              text=True, timeout=60, env={**base, "MAVI_API_KEY": "sk-x", **env})

    here = check("8780")
    assert here.returncode == 0 and "web         http://127.0.0.1:8780/ (this box only)" in here.stdout
    guarded = check("8780", MAVI_WEB_PASSWORD="hunter2")
    assert "web         http://127.0.0.1:8780/ (password: env MAVI_WEB_PASSWORD)" in guarded.stdout
    given = check("0.0.0.0:8780", MAVI_WEB_PASSWORD="hunter2")
    assert given.returncode == 0 and "http://0.0.0.0:8780/ (password: env MAVI_WEB_PASSWORD)" in given.stdout
    missing = check("0.0.0.0:8780")
    assert missing.returncode == 1 and "web         MISSING: [web] listen = '0.0.0.0:8780'" in missing.stdout
    assert "needs a password" in missing.stdout and "not ready: no [web] password" in missing.stderr
    assert "hunter2" not in given.stdout + given.stderr
