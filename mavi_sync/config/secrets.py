"""API keys: where they come from, and a wrapper that never shows them.

Order of lookup for each key: systemd's $CREDENTIALS_DIRECTORY/<credential>,
then a container secret /run/secrets/<credential>, then `file`, then the
environment variable, then a clear-text `value` in the TOML (discouraged;
`load.py` warns when that file is readable by others).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Mapping, Optional

from mavi_sync.config.schema import KeySource
from mavi_sync.errors import SecretError


class Secret:
    """A key that prints as `***` in reprs, f-strings, logs and tracebacks."""

    __slots__ = ("_value", "origin")

    def __init__(self, value: str, origin: str) -> None:
        self._value = value
        self.origin = origin  # e.g. "env MAVI_API_KEY"; safe to show

    def reveal(self) -> str:
        """The key itself: call only where it goes into an HTTP header."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(***, from {self.origin})"

    __str__ = __repr__

    def __reduce__(self) -> object:  # never pickled into a process pool or a cache
        raise TypeError("Secret cannot be pickled")


# Docker's and Podman's secrets convention: `--secret NAME` (compose's `secrets:`) mounts the
# secret at /run/secrets/NAME. The credential's name is looked up there, so the container
# image takes `mavi-api-key` the way the systemd units take it with LoadCredential=.
SECRETS_DIR = Path("/run/secrets")


def resolve_key(source: KeySource, name: str, environ: Optional[Mapping[str, str]] = None,
                key_path: Optional[str] = None, secrets_dir: Path = SECRETS_DIR) -> Secret:
    """Return the key `source` points at; raise SecretError naming where it looked."""
    env = os.environ if environ is None else environ
    looked: list[str] = []
    creds_dir = env.get("CREDENTIALS_DIRECTORY")
    if source.credential and creds_dir:
        path = Path(creds_dir) / source.credential
        looked.append(f"credential {path}")
        if path.is_file() and not _unit_fallback(path):
            return Secret(_read_key_file(path, name), f"credential {source.credential}")
    if source.credential:
        path = secrets_dir / source.credential
        looked.append(f"secret {path}")
        if path.is_file():
            return Secret(_read_key_file(path, name), f"secret {path}")
    if source.file is not None:
        looked.append(f"file {source.file}")
        if source.file.exists():
            return Secret(_read_key_file(source.file, name), f"file {source.file}")
    if source.env:
        looked.append(f"environment variable {source.env}")
        value = env.get(source.env, "").strip()
        if value:
            return Secret(value, f"env {source.env}")
    if source.value:
        return Secret(source.value.strip(), "config file")
    raise SecretError(
        f"no {name} found (looked in: {', '.join(looked) or 'nowhere: no source configured'})",
        hint=f"Set {source.env or 'the environment variable'} or point {key_path or f'[api.{_table(name)}]'} "
             "file at a file holding it.",
    )


# What the units' `SetCredential=ID:-` puts in the credential when the key file that
# `LoadCredential=` names is not there (systemd refuses an empty value there).
UNIT_FALLBACK = "-"


def _unit_fallback(path: Path) -> bool:
    try:
        return path.stat().st_size <= 2 and path.read_text(encoding="utf-8").strip() in ("", UNIT_FALLBACK)
    except (OSError, UnicodeDecodeError):
        return False


def _table(name: str) -> str:
    return "security_key" if "security" in name else "key"


def _read_key_file(path: Path, name: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read the {name} file {path}: {exc.__class__.__name__}",
                          hint="Check the file's owner and mode (it should be 0600).") from None
    if not value:
        raise SecretError(f"the {name} file {path} is empty")
    return value


def readable_by_others(path: Path) -> bool:
    """True when group or others may read `path` (a key in it is exposed)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def exposure_warnings(source: KeySource, name: str, config_path: Optional[Path],
                      key_path: Optional[str] = None) -> list[str]:
    """Warnings for a key (or a URL carrying a token, at `key_path`) kept where others can read it."""
    warnings = []
    if source.value:
        where = str(config_path) if config_path else "the config"
        table = key_path or f"api.{_table(name)}"
        warnings.append(f"the {name} is written in clear text in {where}; prefer {table} env, "
                        "file or systemd credential")
        if config_path is not None and readable_by_others(config_path):
            warnings.append(f"{config_path} holds the {name} and is readable by others: chmod 600 {config_path}")
    if source.file is not None and readable_by_others(source.file):
        warnings.append(f"the {name} file {source.file} is readable by others: chmod 600 {source.file}")
    return warnings
