"""A typed view of one TOML table that records problems instead of raising.

Every accessor marks its key as known, returns a usable value (the default when
the given one is wrong) and appends a `Problem` naming the key path, the value
and what was expected; `finish()` reports keys nobody asked for, with a
"did you mean" drawn from the known ones.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Optional, Sequence, TypeVar

from mavi_sync.errors import Problem

T = TypeVar("T")
_MISSING = object()


class Table:
    """One TOML table at `prefix` (e.g. `folders[0].security`)."""

    def __init__(self, data: Any, prefix: str, problems: list[Problem], base_dir: Path) -> None:
        if not isinstance(data, dict):
            problems.append(Problem(prefix, data, "a table"))
            data = {}
        self._data: dict[str, Any] = data
        self._prefix = prefix
        self._problems = problems
        self._known: set[str] = set()
        self.base_dir = base_dir

    # -- bookkeeping -----------------------------------------------------------------
    def key(self, name: str) -> str:
        return f"{self._prefix}.{name}" if self._prefix else name

    def problem(self, name: str, value: object, expected: str) -> None:
        self._problems.append(Problem(self.key(name), value, expected))

    def has(self, name: str) -> bool:
        return name in self._data

    def value(self, name: str) -> Any:
        """The raw value (None when absent), marked as known: for keys of several shapes."""
        raw = self._raw(name)
        return None if raw is _MISSING else raw

    def _raw(self, name: str) -> Any:
        self._known.add(name)
        return self._data.get(name, _MISSING)

    def finish(self) -> None:
        """Report every key that no accessor asked for."""
        for name in sorted(set(self._data) - self._known):
            close = difflib.get_close_matches(name, sorted(self._known), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(sorted(self._known))
            self.problem(name, self._data[name], f"unknown key; {hint}")

    # -- scalar accessors ------------------------------------------------------------
    def string(self, name: str, default: str, *, max_len: Optional[int] = None,
               choices: Sequence[str] = ()) -> str:
        raw = self._raw(name)
        if raw is _MISSING:
            return default
        if not isinstance(raw, str):
            self.problem(name, raw, "a string")
            return default
        if choices and raw not in choices:
            self.problem(name, raw, "one of " + ", ".join(repr(c) for c in choices))
            return default
        if max_len is not None and len(raw) > max_len:
            self.problem(name, raw, f"at most {max_len} characters (got {len(raw)})")
            return default
        if any(ord(ch) < 32 and ch not in "\t\n" for ch in raw):
            self.problem(name, raw, "printable text (control characters found)")
            return default
        return raw

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is _MISSING:
            return default
        if not isinstance(raw, bool):
            self.problem(name, raw, "true or false")
            return default
        return raw

    def number(self, name: str, default: T, *, minimum: Optional[float] = None,
               maximum: Optional[float] = None, integer: bool = False,
               above: Optional[float] = None) -> T:
        raw = self._raw(name)
        if raw is _MISSING:
            return default
        kind = "an integer" if integer else "a number"
        ok_type = isinstance(raw, int) if integer else isinstance(raw, (int, float))
        if isinstance(raw, bool) or not ok_type or (isinstance(raw, float) and not math.isfinite(raw)):
            self.problem(name, raw, kind)
            return default
        if minimum is not None and raw < minimum:
            self.problem(name, raw, f"{kind} >= {minimum:g}")
            return default
        if above is not None and raw <= above:
            self.problem(name, raw, f"{kind} > {above:g}")
            return default
        if maximum is not None and raw > maximum:
            self.problem(name, raw, f"{kind} <= {maximum:g}")
            return default
        return raw if integer else float(raw)  # type: ignore[return-value]

    def optional_number(self, name: str, *, minimum: float, maximum: float) -> Optional[float]:
        if not self.has(name):
            self._known.add(name)
            return None
        value = self.number(name, math.nan, minimum=minimum, maximum=maximum)
        return None if math.isnan(value) else value

    def strings(self, name: str, default: Sequence[str], *, max_len: Optional[int] = None) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is _MISSING:
            return tuple(default)
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self.problem(name, raw, "a list of strings")
            return tuple(default)
        for item in raw:
            if max_len is not None and len(item) > max_len:
                self.problem(name, item, f"each item at most {max_len} characters")
            if not item.strip():
                self.problem(name, raw, "non-empty strings")
                return tuple(default)
        return tuple(raw)

    def path(self, name: str, default: Optional[Path]) -> Optional[Path]:
        """A path; `~` is expanded and relative paths are taken from the config's folder."""
        raw = self._raw(name)
        if raw is _MISSING or raw == "":
            return default
        if not isinstance(raw, str):
            self.problem(name, raw, "a path (string)")
            return default
        path = Path(raw).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    # -- nested tables -----------------------------------------------------------------
    def table(self, name: str) -> "Table":
        raw = self._raw(name)
        return Table({} if raw is _MISSING else raw, self.key(name), self._problems, self.base_dir)

    def tables(self, name: str) -> list["Table"]:
        raw = self._raw(name)
        if raw is _MISSING:
            return []
        if not isinstance(raw, list):
            self.problem(name, raw, f"an array of tables ([[{name}]])")
            return []
        return [Table(item, f"{self.key(name)}[{i}]", self._problems, self.base_dir)
                for i, item in enumerate(raw)]
