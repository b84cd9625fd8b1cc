"""Imports flow one way: cli → daemon → engine → intake/follower/uploader → api/ledger/media
→ config/errors, with no cycles. Read from the source with `ast`, so a new import that
breaks the direction fails here, not in a review."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "mavi_sync"

# Higher imports lower (or its own level); never the other way. A package has the level of
# its most dependent module; a module named on its own (package.module) sits lower inside it.
LEVELS: dict[str, int] = {
    "commands": 7, "dev": 7, "__main__": 7,            # the commands; development tools
    "daemon": 6,                                       # the service: wiring, signals, reload
    "engine": 5, "readout": 5, "web": 5, "find": 5,    # queue, workers; status, metrics, the page; search
    "intake": 4, "pipeline": 4, "owner": 4, "after": 4,  # finding files; one file's way; the owner's side
    "captions": 3,                                     # security captions and their receiver
    "api": 2, "ledger": 2, "media": 2, "emulator": 2, "fleet": 2,
    "config": 1, "errors": 1, "logs": 1, "__init__": 1,
    # inside packages: the pure decisions and small parts lower than those that use them
    "engine.pause": 3, "engine.snapshot": 2,
    "pipeline.outcome": 3, "pipeline.plan": 3, "pipeline.staging": 3,
    "pipeline.hashing": 2, "pipeline.stamp": 2,
    "owner.alerts": 3, "owner.courier": 3, "owner.gate": 3, "owner.timetable": 1,
    "ledger.states": 1,
}


def level(module: str) -> int:
    """The level of `mavi_sync.x.y`: its own entry, else its package's."""
    parts = module.split(".")[1:] or ["__init__"]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LEVELS:
            return LEVELS[".".join(parts[:n])]
    raise AssertionError(f"{module} has no level in tests/test_layers.py: give it one")


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1] if len(parts) > 2 else parts
        out[".".join(parts)] = path
    return out


def imports(path: Path) -> set[str]:
    """The mavi_sync modules `path` imports at any point (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mavi_sync"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mavi_sync")}
    return found


def test_imports_never_go_up_a_level() -> None:
    wrong = []
    for name, path in modules().items():
        for target in imports(path):
            if target != "mavi_sync" and level(target) > level(name):
                wrong.append(f"{name} (level {level(name)}) imports {target} (level {level(target)})")
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_the_daemon_or_the_cli() -> None:
    for name, path in modules().items():
        if name.split(".")[1:2] in (["commands"], ["daemon"], ["__main__"], ["dev"]):
            continue
        assert not {t for t in imports(path) if t.split(".")[1:2] in (["commands"], ["daemon"])}, name


def test_the_api_client_does_not_know_the_media_package() -> None:
    for name, path in modules().items():
        if name.startswith("mavi_sync.api"):
            assert not {t for t in imports(path) if t.startswith("mavi_sync.media")}, name


def test_there_is_no_import_cycle() -> None:
    graph = {name: {t for t in imports(path) if t in modules()} for name, path in modules().items()}
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            raise AssertionError("import cycle: " + " → ".join(trail[trail.index(node):] + [node]))
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])


def test_no_module_is_over_400_lines() -> None:
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, long


def test_at_most_eight_modules_sit_flat_at_the_top() -> None:
    """The tree shows the plan (ARCHITECTURE.md): what everything shares stays at the top,
    the rest lives in the package of its concern."""
    flat = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(flat) <= 8, flat
