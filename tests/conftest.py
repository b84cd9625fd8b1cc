"""Shared fixtures: the real-camera corpus (skipped with a reason when absent), a config
writer, and guards that fail a test which leaks a thread."""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MAVI_MEDIA_CORPUS", REPO.parent / "shared" / "media"))


def corpus_rows() -> list[dict[str, str]]:
    """MANIFEST.tsv rows; a row whose fields hold stray newlines is dropped by the reader's
    strict column count (one fuzzer file has binary garbage in its exiftool columns)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with open(manifest, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [row for row in reader if row.get("file") and None not in row
                and (CORPUS / row["file"]).is_file()]


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip(f"real-camera corpus not found at {CORPUS} (it lives in ../shared/media beside the repo; "
                    "set MAVI_MEDIA_CORPUS to use another copy)")
    return CORPUS


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a TOML config into tmp_path and return its path."""

    def write(text: str, name: str = "config.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert not leaked, f"test leaked threads: {leaked}"
