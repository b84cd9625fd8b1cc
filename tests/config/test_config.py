"""Config: the example loads, and every wrong value is named with its key, value and expectation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mavi_sync.config import build_config, load_config
from mavi_sync.config.checks import filesystem_problems
from mavi_sync.errors import ConfigError

from tests.conftest import REPO


def problems_of(data: dict, base: Path = Path("/")) -> list[str]:
    with pytest.raises(ConfigError) as info:
        build_config(data, base_dir=base)
    return [str(p) for p in info.value.problems]


def test_example_config_loads_cleanly() -> None:
    config = load_config(REPO / "config.example.toml")
    assert [f.target for f in config.folders] == ["auto", "security"]
    assert config.folders[1].timezone is not None and config.folders[1].timezone.key == "Europe/Berlin"
    assert config.folders[1].latitude == 52.52
    assert config.uploads.concurrency == 2
    assert config.warnings == ()


def test_defaults_fill_a_minimal_config(tmp_path: Path) -> None:
    config = build_config({"folders": [{"path": str(tmp_path)}]})
    folder = config.folders[0]
    assert (folder.target, folder.recursive, folder.after_upload, folder.settle_s) == ("auto", True, "keep", 10.0)
    assert "*.part" in folder.temp_patterns
    assert config.api.key.env == "MAVI_API_KEY"
    assert config.uploads.probe_idle_s == 10.0
    # The defaults docs/reference/config.md and config.example.toml state for this round's settings.
    assert (folder.incomplete_grace_s, folder.to_jpeg, folder.jpeg_quality, folder.live_photos, folder.transcode) == \
        (300.0, ("heif", "avif"), 90, "still", False)
    assert config.uploads.staging_max_mb == 2000.0
    assert {"*.filepart", "*.!sync", ".*", "*.crdownload"} <= set(folder.temp_patterns)


def test_every_problem_is_collected_with_key_value_and_expectation() -> None:
    problems = problems_of({
        "uploads": {"concurrency": -1, "rate_limit_per_minute": "fast", "probe_idle_s": -1},
        "folders": [{"path": "/x", "target": "videos", "timezone": "Mars/Olympus", "max_size_mb": -5,
                     "latitude": 91, "longitude": 10}],
    })
    joined = "\n".join(problems)
    assert "uploads.concurrency = -1: an integer >= 1" in joined
    assert "uploads.rate_limit_per_minute = 'fast': a number" in joined
    assert "uploads.probe_idle_s = -1: a number >= 0" in joined
    assert "folders[0].target = 'videos': one of 'video', 'image', 'security', 'asset', 'auto'" in joined
    assert "folders[0].timezone = 'Mars/Olympus': an IANA time zone" in joined
    assert "folders[0].max_size_mb = -5: a number >= 0" in joined
    assert "folders[0].latitude = 91: a number <= 90" in joined
    assert len(problems) == 7


def test_unknown_keys_get_a_did_you_mean() -> None:
    problems = problems_of({"uplods": {}, "folders": [{"path": "/x", "recursiv": True, "targte": "video"}]})
    assert "uplods = {}: unknown key; did you mean 'uploads'?" in problems
    assert "folders[0].recursiv = True: unknown key; did you mean 'recursive'?" in problems
    assert any(p.startswith("folders[0].targte = 'video': unknown key; did you mean 'target'?") for p in problems)


def test_wrong_types_and_cross_field_rules() -> None:
    problems = problems_of({"folders": [
        {"path": "/a", "recursive": "yes", "tags": "one", "after_upload": "archive", "latitude": 10.0},
        {"path": "/b", "target": "security", "security": {"mode": "async", "reasoning_effort": "11"}},
        {"path": "/c", "tag_templates": ["{nope}"], "callback": "ftp://x", "camera_model": "x" * 201},
    ]})
    joined = "\n".join(problems)
    assert "folders[0].recursive = 'yes': true or false" in joined
    assert "folders[0].tags = 'one': a list of strings" in joined
    assert "folders[0].archive_dir = None: a directory, because after_upload = 'archive'" in joined
    assert "folders[0].longitude = None: latitude and longitude together" in joined
    assert "folders[1].security.callback = '': a callback URL" in joined
    assert "folders[1].security.reasoning_effort = '11': one of" in joined
    assert "folders[2].tag_templates = '{nope}': placeholders among" in joined
    assert "folders[2].callback = 'ftp://x': an http:// or https:// URL" in joined
    assert "folders[2].camera_model" in joined and "at most 200 characters" in joined


def test_no_folders_is_an_error() -> None:
    assert problems_of({}) == ["folders = []: at least one [[folders]] table"]


def test_filesystem_checks(tmp_path: Path) -> None:
    (tmp_path / "cams").mkdir()
    (tmp_path / "cams" / "front").mkdir()
    (tmp_path / "a-file").write_text("x")
    config = build_config({"folders": [
        {"path": str(tmp_path / "cams")},
        {"path": str(tmp_path / "cams" / "front")},
        {"path": str(tmp_path / "missing")},
        {"path": str(tmp_path / "a-file")},
        {"path": str(tmp_path / "cams2"), "after_upload": "archive", "archive_dir": str(tmp_path / "cams" / "done")},
    ]})
    problems = [str(p) for p in filesystem_problems(config)]
    joined = "\n".join(problems)
    assert "folders[1].path" in joined and "does not overlap folders[0]" in joined
    assert f"folders[2].path = '{tmp_path / 'missing'}': an existing directory (not found)" in joined
    assert "folders[3].path" in joined and "a directory (this is a file)" in joined
    assert "folders[4].archive_dir" in joined and "inside folders[0]" in joined


def test_non_recursive_parent_does_not_overlap_its_subfolder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    config = build_config({"folders": [{"path": str(tmp_path), "recursive": False},
                                       {"path": str(tmp_path / "sub")}]})
    assert filesystem_problems(config) == []


def test_relative_paths_are_taken_from_the_config_folder(write_config, tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    path = write_config('[[folders]]\npath = "media"\n')
    assert load_config(path).folders[0].path == tmp_path / "media"


def test_toml_syntax_error_names_the_line(write_config) -> None:
    path = write_config("[[folders]\npath = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "line 1" in str(info.value)


def test_clear_text_key_in_readable_file_is_warned_about(write_config, tmp_path: Path) -> None:
    path = write_config(f'[api.key]\nvalue = "sk-mavi-test-0000"\n[[folders]]\npath = "{tmp_path}"\n')
    os.chmod(path, 0o644)
    warnings = load_config(path).warnings
    assert any("clear text" in w for w in warnings)
    assert any("readable by others" in w and "chmod 600" in w for w in warnings)
    os.chmod(path, 0o600)
    assert not any("readable by others" in w for w in load_config(path).warnings)
    assert all("sk-mavi-test-0000" not in w for w in warnings)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mavi_sync", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_check_config_cli_exit_codes(write_config, tmp_path: Path) -> None:
    ok = run_cli("check-config", str(REPO / "config.example.toml"),
                 env={"MAVI_API_KEY": "sk-mavi-x", "MAVI_SECURITY_KEY": "sk-mavi-y"})
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    bad = run_cli("check-config", str(write_config('[[folders]]\npath = "nowhere"\ntimezone = "Nope/Nope"\n')))
    assert bad.returncode == 2
    assert "folders[0].timezone = 'Nope/Nope'" in bad.stderr
    assert "Try: " in bad.stderr
    missing = run_cli("check-config", str(tmp_path / "absent.toml"))
    assert missing.returncode == 2 and "an existing config file" in missing.stderr


def test_check_config_reports_where_the_key_came_from_never_the_key(write_config, tmp_path: Path) -> None:
    key = "sk-mavi-SECRETVALUE1234567890"
    path = write_config(f'[[folders]]\npath = "{tmp_path}"\n')
    result = run_cli("check-config", str(path), env={"MAVI_API_KEY": key})
    assert result.returncode == 0
    assert "found (env MAVI_API_KEY)" in result.stdout
    assert key not in result.stdout + result.stderr


def test_check_config_fails_when_a_folders_target_has_no_key(write_config, tmp_path: Path) -> None:
    """A folder whose target needs a key nobody gave is not ready: exit 1, the key named; a key
    no folder needs is only "not set"."""
    bare = {k: v for k, v in os.environ.items() if k not in ("MAVI_API_KEY", "MAVI_SECURITY_KEY")}
    image = write_config(f'[[folders]]\npath = "{tmp_path}"\ntarget = "image"\n', name="image.toml")
    result = subprocess.run([sys.executable, "-m", "mavi_sync", "check-config", str(image)], capture_output=True,
                            text=True, env=bare, timeout=60)
    assert result.returncode == 1 and "api key     MISSING" in result.stdout and "not ready" in result.stderr
    assert "security key not set" in result.stdout
    with_key = run_cli("check-config", str(image), env={"MAVI_API_KEY": "sk-mavi-x"})
    assert with_key.returncode == 0, with_key.stdout + with_key.stderr
    nvr = write_config(f'[[folders]]\npath = "{tmp_path}"\ntarget = "security"\n', name="nvr.toml")
    result = subprocess.run([sys.executable, "-m", "mavi_sync", "check-config", str(nvr)], capture_output=True,
                            text=True, env={**bare, "MAVI_API_KEY": "sk-mavi-x"}, timeout=60)
    assert result.returncode == 1 and "security key MISSING" in result.stdout


def test_metrics_are_off_by_default_and_the_port_is_checked(tmp_path: Path) -> None:
    assert build_config({"folders": [{"path": str(tmp_path)}]}).metrics.port == 0
    config = build_config({"metrics": {"port": 9464}, "folders": [{"path": str(tmp_path)}]})
    assert (config.metrics.port, config.metrics.address) == (9464, "127.0.0.1")
    problems = problems_of({"metrics": {"port": 70000}, "folders": [{"path": str(tmp_path)}]})
    assert any(p.startswith("metrics.port = 70000") for p in problems)


def test_the_receiver_needs_an_address_and_a_public_url_and_async_needs_a_way_back(tmp_path: Path) -> None:
    folder = {"path": str(tmp_path), "target": "security", "security": {"mode": "async"}}
    problems = problems_of({"folders": [folder]})
    assert any(p.startswith("folders[0].security.callback") and "[receiver]" in p for p in problems)
    build_config({"folders": [folder], "receiver": {"listen": "127.0.0.1:8788", "public_url": "https://x.example/m"}})
    bad = problems_of({"folders": [{"path": str(tmp_path)}], "receiver": {"listen": "8788"}})
    assert any(p.startswith("receiver.listen = '8788'") for p in bad)
    assert any(p.startswith("receiver.public_url") for p in bad)
    sidecar = build_config({"folders": [{"path": str(tmp_path), "caption_sidecar": "results"}]},
                           base_dir=tmp_path).folders[0].caption_sidecar
    assert sidecar == str(tmp_path / "results")


def test_check_config_never_says_ok_and_exits_1(write_config, tmp_path: Path) -> None:
    """Seen: `OK` on stdout, then "not ready: no api key" and exit 1. Ready is OK, exit 0;
    not ready is not OK, exit 1: never both."""
    bare = {k: v for k, v in os.environ.items() if k not in ("MAVI_API_KEY", "MAVI_SECURITY_KEY")}
    path = write_config(f'[[folders]]\npath = "{tmp_path}"\ntarget = "image"\n')
    not_ready = subprocess.run([sys.executable, "-m", "mavi_sync", "check-config", str(path)], capture_output=True,
                               text=True, env=bare, timeout=60)
    assert not_ready.returncode == 1 and "not ready: no api key" in not_ready.stderr
    assert "OK" not in not_ready.stdout + not_ready.stderr, not_ready.stdout
    assert not_ready.stdout.startswith(f"{path}: NOT READY\n"), not_ready.stdout
    ready = run_cli("check-config", str(path), env={"MAVI_API_KEY": "sk-mavi-x"})
    assert ready.returncode == 0 and ready.stdout.startswith(f"{path}: OK\n"), ready.stdout
    assert "not ready" not in (ready.stdout + ready.stderr).lower()


def test_check_config_says_the_rate_a_bandwidth_limit_means_and_refuses_one_rclone_refuses(
        write_config, tmp_path: Path) -> None:
    env = {"MAVI_API_KEY": "sk-mavi-x"}
    for limit, means in (("2M", "2 MiB/s (2097152 bytes/s) all the time"),
                         ("08:00,512 23:00,off", "512 KiB/s (524288 bytes/s) from 08:00, no cap from 23:00")):
        path = write_config(f'[[folders]]\npath = "{tmp_path}"\n[bandwidth]\nlimit = "{limit}"\n')
        out = run_cli("check-config", str(path), env=env)
        assert out.returncode == 0 and f"bandwidth   cap {limit}: {means}" in out.stdout, out.stdout
    path = write_config(f'[[folders]]\npath = "{tmp_path}"\n[bandwidth]\nlimit = "08:00,2Mb"\n')
    refused = run_cli("check-config", str(path), env=env)
    assert refused.returncode == 2, refused.stdout
    assert "bandwidth.limit = '08:00,2Mb'" in refused.stderr and "bytes per second" in refused.stderr, refused.stderr


def test_check_config_in_a_fleet_shows_the_fleet_database_never_the_sqlite_file_nor_a_password(
        write_config, tmp_path: Path) -> None:
    path = write_config(f'[[folders]]\npath = "{tmp_path}"\n[ledger]\npath = "{tmp_path / "box.sqlite3"}"\n'
                        '[fleet]\ndatabase = "postgresql://mavi_node@db.example:5432/mavi?sslmode=require"\n'
                        'node = "barn-3"\n')
    out = run_cli("check-config", str(path), env={"MAVI_API_KEY": "sk-mavi-x", "MAVI_FLEET_PASSWORD": "hunter2-pw"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ledger      the fleet's database postgresql://db.example:5432/mavi (role mavi_node), as node barn-3" \
        in out.stdout, out.stdout
    assert "box.sqlite3" not in out.stdout and "hunter2-pw" not in out.stdout + out.stderr
    assert "sslmode" not in out.stdout  # the origin only: whatever the query holds stays out
    assert "password: env MAVI_FLEET_PASSWORD" in out.stdout


def test_a_fleet_url_with_a_password_in_its_query_is_refused_without_showing_it(write_config, tmp_path: Path) -> None:
    path = write_config(f'[[folders]]\npath = "{tmp_path}"\n'
                        '[fleet]\ndatabase = "postgresql://mavi_node@db.example/mavi?password=hunter2-pw"\n')
    out = run_cli("check-config", str(path), env={"MAVI_API_KEY": "sk-mavi-x"})
    assert out.returncode == 2 and "fleet.database" in out.stderr and "without its password" in out.stderr
    assert "hunter2-pw" not in out.stdout + out.stderr


def test_a_config_that_is_not_utf8_or_starts_with_a_bom_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    """A user's editor may save Latin-1, UTF-16 (Windows Notepad) or UTF-8 with a BOM: each
    is a config error that says what to do, never a traceback."""
    from mavi_sync.config.load import read_toml
    from mavi_sync.errors import ConfigError
    cases = {"latin1.toml": "# caméra\n".encode("latin-1"), "utf16.toml": "# cam\n".encode("utf-16"),
             "bom.toml": b"\xef\xbb\xbf[[folders]]\npath = 'x'\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ConfigError) as caught:
            read_toml(tmp_path / name)
        text = str(caught.value)
        assert ("save the file as UTF-8" in text) if name != "bom.toml" else ("byte-order mark" in text), text
