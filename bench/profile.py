"""`make profile`: the daemon under py-spy (a sampling profiler that attaches from outside,
so the daemon runs unmodified) through one figure's slow path.

    python -m bench.profile restart   # the start-up walk over 100,000 known files
    python -m bench.profile first     # the start-up walk over 50,000 new files
    python -m bench.profile upload    # one 1 GB video: probe, hash, send

Prints the functions that took the most samples in the thread doing the work, and keeps
every thread's samples in bench/profile-<path>.txt as collapsed stacks (the format
speedscope.app and flamegraph.pl read).
py-spy needs to ptrace the daemon: root, or kernel.yama.ptrace_scope = 0.
"""

from __future__ import annotations

import collections
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench import upload, walk
from bench.harness import KEY, DaemonProcess, config_text
from mavi_sync.emulator.admin import Admin
from mavi_sync.emulator.app import Settings
from mavi_sync.emulator.runner import EmulatorServer

HERE = Path(__file__).parent


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install 'mavi-sync[bench]' (make profile does)")
    return found


def _record(raw: Path) -> tuple[str, ...]:
    return (_py_spy(), "record", "--rate", "250", "--threads", "--format", "raw", "-o", str(raw), "--")


def _stop(daemon: DaemonProcess) -> None:
    """SIGINT to py-spy: it writes its file and stops the daemon it started."""
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGINT)
    daemon.proc.wait(60)
    daemon.stop()


def top(raw: Path, thread: str, count: int = 20) -> str:
    """The functions with the most samples (inclusive) in one thread, from py-spy's raw output."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if thread not in frames[0]:
            continue
        total += int(n)
        for frame in set(frames[1:]):
            inclusive[frame] += int(n)
    rows = [f"{n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(count)] if total else []
    return f"{total} samples in thread {thread!r}\n" + "\n".join(rows)


def profile(which: str) -> None:
    raw = HERE / f"profile-{which}.txt"
    with tempfile.TemporaryDirectory(prefix="mavi-profile-") as tmp, \
            EmulatorServer(Path(tmp) / "emulator", Settings(api_key=KEY, keep_bytes=False)) as server:
        root = Path(tmp)
        folder = root / "cam"
        log = root / "daemon.log"
        config = root / "config.toml"
        if which == "restart":
            walk.sparse_tree(folder, 100_000)
            walk.seed_ledger(root / "ledger.sqlite3", folder, namespace="default")
        elif which == "first":
            walk.jpeg_tree(folder, 50_000)
        else:
            folder.mkdir()
        config.write_text(config_text(server.url, root, folder, log_level="info",
                                      folder_extra='target = "video"' if which == "upload" else ""))
        if which == "restart":  # a first start writes the directory marks; the figure is the next one
            with DaemonProcess(config, root / "first.log") as first:
                first.wait_for(lambda: walk.log_event(root / "first.log", "walk_done"), 600)
        daemon = DaemonProcess(config, log).start(prefix=_record(raw))
        try:
            if which == "upload":
                daemon.wait_for(lambda: walk.log_event(log, "walk_done"), 120)
                admin = Admin(server.url)
                upload.daemon_run(daemon, admin, root, folder, upload.GB, f"profile-{time.time_ns()}")
                thread = "worker"
            else:
                daemon.wait_for(lambda: walk.log_event(log, "walk_done"), 600)
                thread = "startup-walk"
        finally:
            _stop(daemon)
    print(top(raw, thread))
    print(f"\nall threads' samples, as collapsed stacks: {raw} (speedscope.app or flamegraph.pl draw them)")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "restart"
    if which not in ("restart", "first", "upload"):
        raise SystemExit("usage: python -m bench.profile restart|first|upload")
    profile(which)
