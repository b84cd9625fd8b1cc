"""config.example.toml says each option's default ("(default 10)", "# default true"): every
such claim is held to the schema's real default, so a changed default cannot leave the
example lying."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from typing import Any

import pytest

from mavi_sync.config.schema import (ApiConfig, BandwidthConfig, FleetConfig, FolderConfig, HealthConfig,
                                     LedgerConfig, MetricsConfig, NotifyConfig, NotifyTarget, ReceiverConfig,
                                     SecurityConfig, UploadsConfig, WebConfig)
from tests.conftest import REPO

TABLES: dict[str, Any] = {"api": ApiConfig(), "api.key": ApiConfig().key, "api.security_key": ApiConfig().security_key,
                          "uploads": UploadsConfig(), "metrics": MetricsConfig(), "folders": FolderConfig(path=REPO),
                          "folders.security": SecurityConfig(), "receiver": ReceiverConfig(), "ledger": LedgerConfig()}


@dataclass(frozen=True)
class BandwidthText:
    """[bandwidth] as written: its values are parsed objects in the schema."""

    limit: str = BandwidthConfig().limit.text
    windows: tuple[str, ...] = BandwidthConfig().windows.texts


TABLES.update({"notify": NotifyConfig(), "notify.targets": NotifyTarget(url=ApiConfig().key), "health": HealthConfig(),
               "bandwidth": BandwidthText(), "fleet": FleetConfig(), "web": WebConfig()})
# Defaults written in words, and what they mean in the schema.
WORDS = {"all of them": list(NotifyTarget(url=ApiConfig().key).events), "none": None, "1 day": 86400, '"" (none)': "", "the account's Default folder": None}
LOCAL_ZONE = ("folders", "timezone")  # "local" is the schema's None: the machine's zone
LINE = re.compile(r'^#?\s*(\w+) = .*?#.*?\(?default:? ([^;)]+?)(?:\)|;|$| =)')


def claims() -> list[tuple[str, str, str]]:
    table, found = "", []
    for line in (REPO / "config.example.toml").read_text(encoding="utf-8").splitlines():
        header = re.match(r"^#?\s*\[\[?([\w.]+)\]\]?", line)
        if header:
            table = header.group(1)
            continue
        match = LINE.match(line)
        if match and table in TABLES:
            found.append((table, match.group(1), match.group(2).strip()))
    return found


def value(text: str) -> Any:
    if text in WORDS:
        return WORDS[text]
    first = text if text.startswith("[") else text.split()[0]
    try:
        return tomllib.loads(f"x = {first}")["x"]
    except tomllib.TOMLDecodeError:
        return tomllib.loads(f'x = "{first}"')["x"]


def default(table: str, key: str) -> Any:
    owner = TABLES[table]
    if key not in {f.name for f in fields(owner)}:
        pytest.fail(f"config.example.toml documents [{table}] {key}, which the schema does not have")
    got = getattr(owner, key)
    if isinstance(got, tuple):
        return list(got)
    return None if got is None else (float(got) if isinstance(got, (int, float)) and not isinstance(got, bool) else got)


def test_the_example_documents_many_defaults() -> None:
    assert len(claims()) >= 40, claims()


@pytest.mark.parametrize("table,key,said", claims(), ids=lambda x: str(x))
def test_each_documented_default_is_the_real_one(table: str, key: str, said: str) -> None:
    claimed = None if (table, key) == LOCAL_ZONE and said == '"local"' else value(said)
    real = default(table, key)
    if isinstance(claimed, (int, float)) and not isinstance(claimed, bool):
        claimed = float(claimed)
    if claimed is None:  # "none": not set, however the schema spells it
        assert real in (None, ""), f"[{table}] {key}: the example says no default, the schema has {real!r}"
        return
    assert claimed == real, f"[{table}] {key}: the example says default {said!r}, the schema has {real!r}"
