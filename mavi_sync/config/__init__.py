"""Config: TOML file → validated, immutable dataclasses.

`load_config(path)` is the entry point; `build_config(dict)` is the pure core.
"""

from mavi_sync.config.load import default_config_path, load_config, read_toml
from mavi_sync.config.parse import build_config
from mavi_sync.config.schema import (
    TARGETS,
    ApiConfig,
    Config,
    FolderConfig,
    KeySource,
    LedgerConfig,
    SecurityConfig,
    UploadsConfig,
)

__all__ = [
    "TARGETS",
    "ApiConfig",
    "Config",
    "FolderConfig",
    "KeySource",
    "LedgerConfig",
    "SecurityConfig",
    "UploadsConfig",
    "build_config",
    "default_config_path",
    "load_config",
    "read_toml",
]
