"""Every config key as the parser reads it: `build_config` run over a config that reaches
every table, with `config/reader.py`'s accessors watched, records each key's table, kind,
limits and default; `config.example.toml`'s comments give the words for each. For the
generated reference (reference.py); tests/test_docs.py holds the page to them.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from mavi_sync.config.reader import Table

REPO = Path(__file__).resolve().parents[2]  # mavi_sync/dev/config_keys.py → the repository
EXAMPLE = REPO / "config.example.toml"

# A config that reaches every table the parser reads, so that every key is asked for once.
EVERY_TABLE: dict[str, Any] = {
    "api": {"key": {}, "security_key": {}}, "uploads": {}, "ledger": {}, "metrics": {},
    "folders": [{"path": "/", "security": {"persons": [{"name": "n", "url": "https://example.org/n.jpg"}]}}],
    "receiver": {}, "notify": {"targets": [{"url": {"env": "X"}}]},
    "health": {"ping": {"env": "X"}, "fail": {"env": "X"}}, "bandwidth": {}, "fleet": {"password": {"env": "X"}},
    "web": {"password": {"env": "X"}},
}
ACCESSORS = ("string", "boolean", "number", "optional_number", "strings", "path", "value", "tables")


@dataclass
class Key:
    """One key as the parser reads it: its table (`folders.security`), kind and limits."""

    table: str
    name: str
    kind: str
    default: Any = None
    limits: dict[str, Any] = field(default_factory=dict)
    words: str = ""


def table_name(prefix: str) -> str:
    """`folders[0].security` → `folders.security`: one name for every instance of a table."""
    return re.sub(r"\[\d+\]", "", prefix)


@contextmanager
def recording() -> Iterator[dict[tuple[str, str], Key]]:
    """Every key an accessor of `Table` is asked for while inside, in the order asked."""
    keys: dict[tuple[str, str], Key] = {}
    originals = {name: getattr(Table, name) for name in ACCESSORS}

    def spy(accessor: str) -> Any:
        def call(self: Table, name: str, *args: Any, **limits: Any) -> Any:
            where = table_name(self.key(name)[:-len(name)].rstrip("."))  # "folders[0].security.mode" → its table
            default = args[0] if args else limits.get("default")
            shown = {k: v for k, v in limits.items() if k != "default"}
            keys.setdefault((where, name), Key(where, name, accessor, default, shown))
            return originals[accessor](self, name, *args, **limits)
        return call

    for name in ACCESSORS:
        setattr(Table, name, spy(name))
    try:
        yield keys
    finally:
        for name, original in originals.items():
            setattr(Table, name, original)


def config_keys() -> list[Key]:
    """Every key of every table, as `build_config` reads them, with the example's words."""
    from mavi_sync.config.parse import build_config  # imported here: recording() patches what it calls
    with recording() as keys:
        build_config(EVERY_TABLE)
    # Sub-tables of several shapes (a URL or { env, file, … }) are read as a value, then as a table.
    shapes = {f"{k.table}.{k.name}".lstrip(".") for k in keys.values() if k.kind == "value"}
    found = [k for k in keys.values() if k.kind != "tables" and k.table not in shapes]
    words = example_words()
    for key in found:
        key.words = words.get((key.table, key.name), "")
        if key.kind == "value" and not takes_text(key):
            key.kind = "table"  # a table naming where the secret is; text is refused
    return found


def takes_text(key: Key) -> bool:
    """Whether the parser takes a URL written as text for `key` (else only a table naming it)."""
    import copy

    from mavi_sync.config.parse import build_config
    from mavi_sync.errors import ConfigError
    data = copy.deepcopy(EVERY_TABLE)
    where: Any = data
    for part in key.table.split("."):
        where = where[part][0] if isinstance(where[part], list) else where[part]
    where[key.name] = "json://example.org/hook"
    try:
        build_config(data)
    except ConfigError as exc:
        return not any(p.key.endswith(key.name) for p in exc.problems)
    return True


KEY_LINE = re.compile(r"^#?\s*(\w+)\s*=\s*(.*)$")
HEADER = re.compile(r"^#?\s*\[\[?([\w.]+)\]\]?\s*$")


def example_words() -> dict[tuple[str, str], str]:
    """(table, key) → what config.example.toml says about it: the comment block just above the
    key line and the comment at its end. A table's own words are under (table, "")."""
    words: dict[tuple[str, str], str] = {}
    table, block = "", []
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        header, key = HEADER.match(line), KEY_LINE.match(line)
        if header:
            table = header.group(1)
            words.setdefault((table, ""), " ".join(block))
            block = []
        elif key and "=" not in key.group(1):
            _, _, tail = _split_comment(key.group(2))
            said = " ".join(block + ([tail] if tail else []))
            if said and not words.get((table, key.group(1))):
                words[(table, key.group(1))] = said
            block = []
        elif line.startswith("#"):
            block.append(line.lstrip("#").strip())
        else:
            block = []
    return {k: re.sub(r"\s+", " ", v).strip() for k, v in words.items()}


def _split_comment(value: str) -> tuple[str, str, str]:
    """`"a#b"  # words` → ('"a#b"', '#', 'words'): a # inside a string is not a comment."""
    quoted = False
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return value[:i].strip(), "#", value[i + 1:].strip()
    return value.strip(), "", ""
