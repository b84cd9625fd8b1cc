"""What an emulator is started with: its keys, life-cycle timing, the documented limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from mavi_sync.emulator import validate as v
from mavi_sync.emulator.store import Timing


@dataclass(frozen=True)
class Settings:
    api_key: str = "sk-mavi-emulator-key"
    security_key: str = "sk-mavi-emulator-security-key"
    timing: Timing = Timing()
    limits: v.Limits = v.Limits()
    keep_bytes: bool = True  # False: bytes are hashed and dropped (benchmarks with GB files)
    security_success_code: Any = 0  # the docs show both 0 and "0000"
    seed: Optional[int] = None
