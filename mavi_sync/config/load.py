"""Read a TOML config file and turn it into a validated `Config`."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Optional

from mavi_sync.config.checks import filesystem_problems
from mavi_sync.config.parse import build_config
from mavi_sync.config.schema import Config
from mavi_sync.config.secrets import exposure_warnings
from mavi_sync.errors import ConfigError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict; ConfigError for a missing, unreadable or malformed file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([Problem("(file)", str(path), "an existing config file")], str(path)) from None
    except OSError as exc:
        raise ConfigError([Problem("(file)", str(path), f"a readable file ({exc.strerror})")], str(path)) from None
    except UnicodeDecodeError as exc:  # a Latin-1 or UTF-16 file (Windows Notepad writes UTF-16)
        raise ConfigError([Problem("(encoding)", str(path), f"a UTF-8 text file, as TOML must be (byte {exc.start} "
                                   "is not UTF-8: save the file as UTF-8)")], str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        bom = _starts_with_bom(path)
        expected = ("valid TOML: the file starts with a byte-order mark (BOM); save it as UTF-8 without one"
                    if bom else f"valid TOML: {exc}")
        raise ConfigError([Problem("(syntax)", str(path), expected)], str(path)) from None


def _starts_with_bom(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False


def load_config(path: Path, *, check_filesystem: bool = True) -> Config:
    """Load, validate and (by default) check the folders on disk; raise ConfigError."""
    path = Path(path)
    data = read_toml(path)
    config = build_config(data, base_dir=path.resolve().parent, source=path)
    if check_filesystem:
        problems = filesystem_problems(config)
        if problems:
            raise ConfigError(problems, str(path))
    warnings = exposure_warnings(config.api.key, "API key", path) + \
        exposure_warnings(config.api.security_key, "security API key", path)
    for i, target in enumerate(config.notify.targets):
        warnings += exposure_warnings(target.url, f"notification URL {i + 1}", path, f"notify.targets[{i}].url")
    for name in ("ping", "fail"):
        warnings += exposure_warnings(getattr(config.health, name), f"health {name} URL", path, f"health.{name}")
    warnings += exposure_warnings(config.web.password, "web page password", path, "web.password")
    return dataclasses.replace(config, warnings=tuple(warnings))


def default_config_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """$MAVI_SYNC_CONFIG, else systemd's $CONFIGURATION_DIRECTORY/config.toml, else the first
    of ~/.config/mavi-sync/config.toml and /etc/mavi-sync/config.toml that exists."""
    env = os.environ if environ is None else environ
    if env.get("MAVI_SYNC_CONFIG"):
        return Path(env["MAVI_SYNC_CONFIG"])
    if env.get("CONFIGURATION_DIRECTORY"):
        return Path(env["CONFIGURATION_DIRECTORY"].split(":")[0]) / "config.toml"
    candidates = [Path.home() / ".config" / "mavi-sync" / "config.toml", Path("/etc/mavi-sync/config.toml")]
    return next((p for p in candidates if p.exists()), candidates[-1])
