"""The error tree: one root, shallow branches, each carrying a hint for the user.

Third-party exceptions are wrapped at the module that calls the library, so
nothing above that boundary needs to know about PIL, av, sqlite3 or requests.
"""

from __future__ import annotations

from dataclasses import dataclass


class MaviSyncError(Exception):
    """Root of every error mavi-sync raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config: where, what was found, what was expected."""

    key: str
    value: object
    expected: str

    def __str__(self) -> str:
        return f"{self.key} = {_show(self.value)}: {self.expected}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(MaviSyncError):
    """The config cannot be used; `problems` lists every reason at once."""

    hint = "Fix the listed keys, then run: mavi-sync check-config PATH"

    def __init__(self, problems: list[Problem], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n{lines}")


class SecretError(MaviSyncError):
    """An API key could not be found or read (the message never holds the key)."""


class LedgerError(MaviSyncError):
    """The ledger file cannot be opened, migrated or written."""

    hint = "Check the ledger path and free disk space; the ledger is never modified on error."


class IllegalTransition(LedgerError):
    """A state change the state machine does not allow (a bug, not a user error)."""

    hint = "This is a bug in mavi-sync; please report it with the log lines around it."
