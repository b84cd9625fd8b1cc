"""`make demo` finds the repository and the corpus beside it wherever its module lives (it
moved into dev/ once and quietly fell back to synthetic files, writing inside the package)."""

from __future__ import annotations

from mavi_sync.dev import demo
from tests.conftest import CORPUS, REPO


def test_the_demo_works_in_the_repository_and_reads_the_corpus_beside_it() -> None:
    assert demo.REPO == REPO and (demo.REPO / "pyproject.toml").is_file()
    assert demo.WORK == REPO / ".demo"
    assert demo.CORPUS == CORPUS
