"""Shared fixtures: the real-camera corpus (skipped with a reason when absent), a config
writer, and guards that fail a test which leaks a thread."""

from __future__ import annotations

import csv
from contextlib import contextmanager
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

if TYPE_CHECKING:  # aiohttp is imported only by the tests that start the emulator
    from mavi_sync.emulator.runner import EmulatorServer
    from tests.pg import PostgresServer

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


LEAK_GRACE_S = 5.0  # a stopped thread may need a moment to see its stop event


@contextmanager
def no_threads_left(grace_s: float = LEAK_GRACE_S) -> Iterator[None]:
    """Fails when a thread started inside the block is still alive `grace_s` after it:
    daemon threads included (the daemon's are all daemon threads, so a guard that skipped
    them saw none)."""
    before = set(threading.enumerate())
    yield
    before |= _process_pools()
    deadline = time.monotonic() + grace_s
    for thread in [t for t in threading.enumerate() if t not in before]:
        thread.join(max(0.0, deadline - time.monotonic()))
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"test leaked threads: {leaked}"


def _process_pools() -> set[threading.Thread]:
    """Apprise 2's worker pools: one per process, started by its first notification and kept
    for the next (by design, not a leak of ours)."""
    import sys
    module = sys.modules.get("apprise.apprise")
    pools = [getattr(module, name, None) for name in ("_shared_executor", "_coordinator_executor")] if module else []
    return {t for pool in pools if pool is not None for t in getattr(pool, "_threads", ())}


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    with no_threads_left():
        yield


# -- the emulator, over real HTTP on 127.0.0.1 ----------------------------------------------
API_KEY = "sk-mavi-test-0123456789abcdef"
SECURITY_KEY = "sk-mavi-test-security-fedcba9876543210"


def fast_timing():  # type: ignore[no-untyped-def]
    from mavi_sync.emulator.store import Timing
    return Timing(parse_delay_s=0.3, asset_waiting_s=0.1, asset_uploading_s=0.1, security_sync_s=0.01,
                  callback_delay_s=0.05)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator["EmulatorServer"]:
    """A fresh emulator with fast life cycles, keys API_KEY / SECURITY_KEY."""
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    server = EmulatorServer(tmp_path / "emulator", Settings(api_key=API_KEY, security_key=SECURITY_KEY,
                                                            timing=fast_timing(), seed=1))
    with server:
        yield server


@pytest.fixture
def admin(emulator):  # type: ignore[no-untyped-def]
    from mavi_sync.emulator.admin import Admin
    client = Admin(emulator.url)
    yield client
    client.close()


def api_table(url: str) -> dict[str, str]:
    return {"base_url": url, "security_base_url": url, "asset_base_url": url}


def api_toml(url: str) -> str:
    """The [api] table pointing all three hosts at the emulator, and the start of a fast [uploads]."""
    return (f'[api]\nbase_url = "{url}"\nsecurity_base_url = "{url}"\nasset_base_url = "{url}"\n'
            "[uploads]\nrate_limit_per_minute = 6000\nquery_rate_limit_per_second = 100\n")


def fast_uploads(**overrides: object) -> dict[str, object]:
    """[uploads] for tests: no self-imposed rate wait, quick in-process retries, short timeouts."""
    table: dict[str, object] = {"rate_limit_per_minute": 60000, "query_rate_limit_per_second": 1000,
                                "request_attempts": 3, "request_retry_initial_s": 0.01,
                                "read_timeout_s": 5, "connect_timeout_s": 2}
    table.update(overrides)
    return table


def run_in_threads(fn: Callable[[object], object], items: list[object], timeout: float = 60) -> list[BaseException]:
    """Call fn(item) for every item, each on its own thread; return what they raised."""
    errors: list[BaseException] = []

    def call(item: object) -> None:
        try:
            fn(item)
        except BaseException as exc:  # collected for the test to assert on
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return errors


# -- a real PostgreSQL, for the fleet ---------------------------------------------------------
@pytest.fixture(scope="session")
def postgres() -> Iterator["PostgresServer"]:
    """One throw-away PostgreSQL cluster per test process (tests/pg.py); each test asks it
    for a fresh database. Skipped, with the reason, where the machine has none."""
    from tests.pg import PostgresServer, unavailable
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request, tmp_path: Path) -> Callable[[], Any]:  # type: ignore[no-untyped-def]
    """Opens the ledger on each backend: a SQLite file, or the fleet's PostgreSQL (a fresh
    database; skipped where there is no PostgreSQL); each call a new connection, as another
    process (or node) has."""
    from mavi_sync.ledger.store import Ledger
    local = tmp_path / "state" / "ledger.sqlite3"
    if request.param == "sqlite":
        return lambda: Ledger(local)
    from mavi_sync.config.secrets import Secret
    from mavi_sync.fleet.ledger import PostgresLedger
    from tests.pg import PASSWORD
    url = request.getfixturevalue("postgres").database()
    return lambda: PostgresLedger(url, Secret(PASSWORD, "test"), "node-a", local)
