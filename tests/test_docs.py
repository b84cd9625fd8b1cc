"""The documentation holds to the code: every claim on a page names the tests that hold it,
and those tests exist; links between pages lead somewhere; the generated reference is what
the schema and the argument parser make now; each config example on a page is one the
parser takes; a pointer from a test or the code to a page's section finds that section.

The marker a page carries under a claim, or under a section of claims:
    <!-- tested by: tests/e2e/test_daemon.py::test_archive_happens_only_after_confirmation -->
A figure names what measures it (`<!-- measured by: bench/walk.py -->`), and a section of
links only says so (`<!-- no claims: links -->`)."""

from __future__ import annotations

import ast
import re
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

from mavi_sync.config.parse import build_config
from mavi_sync.dev import config_keys, reference
from tests.conftest import REPO

DOCS = sorted((REPO / "docs").rglob("*.md"))
GENERATED = set(reference.PAGES.values())
HISTORY = {REPO / "docs" / "CHANGELOG.md"}  # what was true then, not promises
CLAIM_PAGES = [REPO / "README.md"] + [p for p in DOCS if p not in GENERATED | HISTORY]
LINKED_PAGES = [REPO / "README.md", REPO / "ARCHITECTURE.md", REPO / "systemd" / "README.md"] + DOCS
MARKER = re.compile(r"<!--\s*(tested by|measured by|no claims)\s*:?(.*?)-->", re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
POINTER = re.compile(r'(README(?:\.md)?|ARCHITECTURE\.md|systemd/README\.md|docs/[\w/.-]+\.md)[,:]? +\\?"([^"\\\n]+)\\?"')


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def without_blocks(text: str) -> str:
    """The page without its fenced code blocks (a `# comment` there is no heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def without_code(text: str) -> str:
    """The page without any code (a marker quoted in `backticks` is no marker)."""
    return re.sub(r"`[^`\n]*`", "", without_blocks(text))


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) for each part of a page, the part before its first heading included."""
    out, title, body = [], "(top)", []
    for line in without_code(text).splitlines():
        match = HEADING.match(line)
        if match and len(match.group(1)) >= 2:
            out.append((title, "\n".join(body)))
            title, body = match.group(2), []
        else:
            body.append(line)
    out.append((title, "\n".join(body)))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(m.group(2)) for line in without_blocks(path.read_text(encoding="utf-8")).splitlines()
            if (m := HEADING.match(line))}


@lru_cache(maxsize=None)
def defined(path: Path) -> frozenset[str]:
    """Names a test file defines: functions, classes, `Class::method`, module-level assignments."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            names |= {f"{node.name}::{m.name}" for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return frozenset(names)


def references(text: str) -> list[tuple[str, str]]:
    """(kind, reference) for each test or measurement a page names."""
    return [(kind, ref) for kind, refs in MARKER.findall(without_code(text)) if kind != "no claims"
            for ref in re.split(r"[\s,]+", refs.strip()) if ref]


def missing(ref: str, kind: str = "tested by") -> str:
    """Why `ref` names nothing; "" when it names something. A test is `tests/…/test_x.py::name`;
    what measures a figure may be any file (`bench/walk.py`)."""
    file, _, name = ref.partition("::")
    path = REPO / file
    if kind == "tested by" and not (name and path.name.startswith("test_")):
        return f"{ref}: not a test (tests/…/test_x.py::test_name)"
    if not path.is_file():
        return f"{ref}: no file {file}"
    if name and name.split("[")[0] not in defined(path):
        return f"{ref}: {file} defines no {name}"
    return ""


@pytest.mark.parametrize("page", CLAIM_PAGES, ids=rel)
def test_every_section_names_the_tests_that_hold_its_claims(page: Path) -> None:
    bare = [title for title, body in sections(page.read_text(encoding="utf-8"))
            if body.strip() and not MARKER.search(body)]
    assert not bare, f"{rel(page)}: sections without a tested-by marker: {bare}"


@pytest.mark.parametrize("page", CLAIM_PAGES, ids=rel)
def test_every_test_a_page_names_exists(page: Path) -> None:
    refs = references(page.read_text(encoding="utf-8"))
    assert refs, f"{rel(page)} names no test"
    wrong = [why for kind, ref in refs if (why := missing(ref, kind))]
    assert not wrong, "\n".join(wrong)


def test_the_name_check_catches_a_test_that_is_gone() -> None:
    assert missing("tests/test_docs.py::test_the_name_check_catches_a_test_that_is_gone") == ""
    assert "defines no" in missing("tests/test_docs.py::test_that_was_renamed")
    assert "no file" in missing("tests/test_gone.py::test_x") and "not a test" in missing("tests/pg.py")
    assert missing("bench/walk.py", "measured by") == ""
    assert [t for t, _ in sections("x\n## A\n<!-- no claims -->\n```sh\n# not a heading\n```\n## B\ntext")] == \
        ["(top)", "A", "B"]


@pytest.mark.parametrize("page", LINKED_PAGES, ids=rel)
def test_relative_links_lead_to_a_page_and_a_heading_that_exist(page: Path) -> None:
    broken = []
    for target in LINK.findall(without_blocks(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue  # https://, mailto:
        file, _, anchor = target.partition("#")
        where = (page.parent / file).resolve() if file else page
        if not where.exists():
            broken.append(f"{target}: no such file")
        elif anchor and where.suffix == ".md" and anchor not in anchors(where):
            broken.append(f"{target}: no heading #{anchor} in {rel(where)}")
    assert not broken, f"{rel(page)}:\n" + "\n".join(broken)


def test_the_generated_reference_is_what_the_schema_and_the_parser_make_now() -> None:
    stale = [rel(p) for p in reference.stale()]
    assert not stale, f"stale generated pages (run `make docs`): {stale}"


def test_the_config_reference_names_every_key_the_parser_reads() -> None:
    keys = {(k.table, k.name): k for k in config_keys.config_keys()}
    assert keys[("folders", "settle_s")].default == 10.0 and keys[("uploads", "concurrency")].limits["maximum"] == 64
    assert ("fleet", "node") in keys and ("notify.targets", "events") in keys and ("", "log_level") in keys
    page = reference.PAGES["config"].read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in page for _, name in keys), "a key the parser reads is not on the page"
    # Keys whose table's words in config.example.toml say all there is (the lookup order of a
    # key, "give both or neither"); any other key needs words of its own there.
    explained_by_their_table = {"api.security_key.file", "api.security_key.value", "folders.longitude", "fleet.password"}
    unexplained = {f"{t}.{n}".lstrip(".") for (t, n), k in keys.items() if not k.words}
    assert unexplained <= explained_by_their_table, f"config.example.toml says nothing about: {unexplained}"


def test_the_command_reference_names_every_command_and_option() -> None:
    page = reference.PAGES["commands"].read_text(encoding="utf-8")
    top = reference.parser()
    sub = next(a for a in top._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        assert f"## {name}\n" in page
        for action in (a for a in command._actions if a.dest != "help"):
            assert all(f"`{o}" in page for o in action.option_strings), (name, action.option_strings)


def test_the_readme_is_short_and_shows_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    assert "make demo" in text and "make test" in text


def toml_blocks(page: Path) -> list[str]:
    return re.findall(r"^```toml\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.mark.parametrize("page", [p for p in CLAIM_PAGES if toml_blocks(p)], ids=rel)
def test_every_config_example_on_a_page_is_one_the_parser_takes(page: Path, tmp_path: Path) -> None:
    for block in toml_blocks(page):
        data = tomllib.loads(block)
        data.setdefault("folders", [{"path": str(tmp_path)}])  # a fragment: any folder makes it whole
        build_config(data, base_dir=tmp_path)


def pointers() -> list[tuple[str, str, str]]:
    """(where, page, section) for each `README, "Section"` or `docs/x.md "Section"` in the
    tests, the code, the benchmarks and the example config."""
    found = []
    sources = [*(REPO / "tests").rglob("*.py"), *(REPO / "mavi_sync").rglob("*.py"), *(REPO / "bench").rglob("*.py"),
               REPO / "config.example.toml"]
    for path in sources:
        for page, section in POINTER.findall(path.read_text(encoding="utf-8")):
            if path.name != "test_docs.py":
                found.append((rel(path), "README.md" if page == "README" else page, section))
    return found


def test_pointers_to_a_section_find_that_section() -> None:
    assert pointers(), "no pointer found: the pattern is wrong"
    wrong = []
    for where, page, section in pointers():
        path = REPO / page
        if not path.is_file():
            wrong.append(f"{where}: {page} does not exist")
        elif slug(section) not in anchors(path):
            wrong.append(f'{where}: {page} has no section "{section}"')
    assert not wrong, "\n".join(wrong)


# "README" alone, not a pointer: the vendor's API summary (../shared/api/README.md, "api README"),
# the units' page, and `--config`'s help ("see README": README.md says where a config is looked up).
OTHER_READMES = re.compile(r"(systemd/|api/|api |see )README")


def test_every_mention_of_the_readme_in_the_tests_and_the_code_is_a_pointer_to_a_section() -> None:
    """A claim moved out of the README leaves no `README:` pointer behind in a test."""
    loose = []
    for path in [*(REPO / "tests").rglob("*.py"), *(REPO / "mavi_sync").rglob("*.py"), REPO / "config.example.toml"]:
        if path.name in ("test_docs.py", "test_readme.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            bare = re.sub(POINTER, "", OTHER_READMES.sub("", line))
            if re.search(r"\bREADME(\.md)?\s*[,:)]", bare):
                loose.append(f"{rel(path)}:{number}: {line.strip()}")
    assert not loose, "\n".join(loose)
