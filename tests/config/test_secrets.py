"""API keys: lookup order, and a wrapper that never shows the key."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mavi_sync.config.schema import KeySource
from mavi_sync.config.secrets import Secret, resolve_key
from mavi_sync.errors import SecretError

KEY = "sk-mavi-abcdefghijklmnopqrstuvwxyz"


def test_credentials_directory_wins_over_file_and_env(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mavi-api-key").write_text("from-credential\n")
    key_file = tmp_path / "key"
    key_file.write_text("from-file")
    source = KeySource(env="K", file=key_file, credential="mavi-api-key")
    env = {"CREDENTIALS_DIRECTORY": str(creds), "K": "from-env"}
    assert resolve_key(source, "api key", env).reveal() == "from-credential"
    assert resolve_key(source, "api key", {"K": "from-env"}).reveal() == "from-file"
    assert resolve_key(KeySource(env="K"), "api key", {"K": " from-env "}).reveal() == "from-env"


def test_missing_key_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as info:
        resolve_key(KeySource(env="NOPE", file=tmp_path / "absent"), "api key", {})
    assert "environment variable NOPE" in str(info.value) and "absent" in str(info.value)


def test_empty_key_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("\n")
    with pytest.raises(SecretError, match="is empty"):
        resolve_key(KeySource(file=tmp_path / "key"), "api key", {})


def test_secret_never_prints_its_value() -> None:
    secret = Secret(KEY, "env MAVI_API_KEY")
    for text in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"k": secret})):
        assert KEY not in text
    assert secret.reveal() == KEY
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_a_container_secret_is_found_by_the_credential_name(tmp_path: Path) -> None:
    # Docker and Podman mount `--secret NAME` (compose `secrets:`) at /run/secrets/NAME.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "mavi-api-key").write_text("from-secret\n")
    key_file = tmp_path / "key"
    key_file.write_text("from-file")
    source = KeySource(env="K", file=key_file, credential="mavi-api-key")
    found = resolve_key(source, "api key", {"K": "from-env"}, secrets_dir=secrets)
    assert found.reveal() == "from-secret" and found.origin == f"secret {secrets / 'mavi-api-key'}"
    # systemd's credential still comes first; without either, the file and then the environment.
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mavi-api-key").write_text("from-credential")
    assert resolve_key(source, "api key", {"CREDENTIALS_DIRECTORY": str(creds)}, secrets_dir=secrets).reveal() \
        == "from-credential"
    (secrets / "mavi-api-key").unlink()
    assert resolve_key(source, "api key", {"K": "from-env"}, secrets_dir=secrets).reveal() == "from-file"
    assert resolve_key(KeySource(env="K", credential="mavi-api-key"), "api key", {"K": "from-env"},
                       secrets_dir=secrets).reveal() == "from-env"


def test_a_missing_key_names_the_secrets_directory_it_looked_in(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as info:
        resolve_key(KeySource(env="NOPE", credential="mavi-api-key"), "api key", {}, secrets_dir=tmp_path)
    assert f"secret {tmp_path / 'mavi-api-key'}" in str(info.value)


def test_an_empty_secret_file_is_an_error_not_a_fall_through(tmp_path: Path) -> None:
    (tmp_path / "mavi-api-key").write_text("\n")
    with pytest.raises(SecretError, match="is empty"):
        resolve_key(KeySource(env="K", credential="mavi-api-key"), "api key", {"K": "from-env"},
                    secrets_dir=tmp_path)
