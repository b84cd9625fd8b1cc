"""Print the figures the reliability suites recorded (`make reliability`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = ["| suite | files | lost | duplicates | other figures |", "|---|---|---|---|---|"]
    for r in rows:
        dups = r.pop("duplicates", None)
        dup_text = ", ".join(f"{k} {v}" for k, v in dups.items()) if isinstance(dups, dict) else str(
            r.pop("duplicate_images", "-"))
        suite, files, lost = r.pop("suite"), r.pop("files", "-"), r.pop("lost", "-")
        r.pop("size", None)
        r.pop("ledger_states", None)
        other = "; ".join(f"{k} {v}" for k, v in r.items())
        lines.append(f"| {suite} | {files} | {lost} | {dup_text} | {other} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(Path(sys.argv[1])))
