"""The probe helper process: the same answers as probing in-process, and a helper that
crashes, hangs, leaves while idle or is killed costs one refusal at most, never the caller.
Every helper here is a real process; the misbehaving ones are tiny real Python programs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from mavi_sync.media.model import info_to_wire
from mavi_sync.media.prober import ProbeHelper, probe_here
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.e2e.rig import until

# A helper that answers one request with the names in its environment (as a note), then
# idles: shows what the helper process can see.
ENV_ECHO = ("import json, os, sys; from mavi_sync.media.model import MediaInfo, info_to_wire; "
            "sys.stdin.readline(); "
            "print(json.dumps(info_to_wire(MediaInfo(path='x', size=0, notes=tuple(sorted(os.environ))))), flush=True); "
            "sys.stdin.readline()")


@pytest.fixture
def helper() -> Iterator[ProbeHelper]:
    made = ProbeHelper()
    yield made
    made.close()


def _files(root: Path) -> list[Path]:
    photo = write_image(root / "a.jpg", ImageSpec(make="Canon", model="EOS", taken="2025:10:20 11:00:00",
                                                  offset="+02:00", gps=(-33.865, 151.2094), keywords=["beach"]))
    latin1 = Path(os.fsdecode(root.as_posix().encode() + b"/caf\xe9.jpg"))
    latin1.write_bytes(photo.read_bytes())
    return [photo, latin1,
            write_video(root / "v.mp4", VideoSpec(creation_time="2025-10-20T09:00:00Z", location="+52.52+013.40/",
                                                  audio=True, seconds=1)),
            write_video(root / "v.mov", VideoSpec(apple_creationdate="2025-10-20T11:00:00+0200", seconds=1)),
            root / "missing.jpg", root]


def test_the_helper_answers_exactly_what_probing_here_does(tmp_path: Path, helper: ProbeHelper) -> None:
    for path in _files(tmp_path):
        assert helper(path) == probe_here(path), path
    assert helper.started == 1  # one helper process for all of them


def test_a_relative_path_is_probed_where_the_caller_is(tmp_path: Path, helper: ProbeHelper,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path / "a.jpg", ImageSpec())
    monkeypatch.chdir(tmp_path)
    info = helper("a.jpg")
    assert info.refusal is None and info.path == "a.jpg" and info == probe_here("a.jpg")


def test_the_daemon_never_maps_ffmpeg_or_pillow() -> None:
    code = ("import sys, mavi_sync.commands.parser, mavi_sync.daemon.service, mavi_sync.engine.core; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('av', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_a_helper_that_crashes_is_a_refusal_and_the_next_one_is_fresh(tmp_path: Path) -> None:
    crash = ProbeHelper(command=[sys.executable, "-c",
                                 "import os, signal, sys; sys.stdin.readline(); os.kill(os.getpid(), signal.SIGSEGV)"])
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    first, second = crash(photo), crash(photo)
    assert first.refusal is not None and "crashed" in first.refusal and "SIGSEGV" in first.refusal
    assert first.size == photo.stat().st_size
    assert second.refusal == first.refusal and crash.started == 2
    crash.close()


def test_a_helper_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    stuck = ProbeHelper(timeout_s=0.5, command=[sys.executable, "-c", "import time; time.sleep(60)"])
    info = stuck(tmp_path)
    assert info.refusal is not None and "took over 0.5 s" in info.refusal
    assert stuck.pid is None  # killed, not left behind
    stuck.close()


def test_a_helper_that_cannot_start_raises_so_the_file_is_tried_later(tmp_path: Path) -> None:
    missing = ProbeHelper(command=[str(tmp_path / "no-such-python")])
    with pytest.raises(OSError, match="the probe helper could not start"):
        missing(tmp_path)


def test_a_helper_killed_between_probes_is_replaced(tmp_path: Path, helper: ProbeHelper) -> None:
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    assert helper(photo).refusal is None
    pid = helper.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    until(lambda: _gone(pid), seconds=10)  # killed between probes, not during one
    assert helper(photo).refusal is None and helper.started == 2


def test_the_helper_leaves_when_idle_and_comes_back_on_demand(tmp_path: Path) -> None:
    idle = ProbeHelper(idle_s=0.3)
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    assert idle(photo).refusal is None
    first = idle.pid
    assert first is not None
    until(lambda: _gone(first), seconds=10)
    assert idle(photo).refusal is None and idle.started == 2
    idle.close()


def test_a_helper_that_left_when_idle_is_reaped_no_zombie_remains(tmp_path: Path) -> None:
    """The helper leaves by itself after `idle_s`; nothing may stay behind as `<defunct>`
    until the next file starts another one (the daemon may be idle for days)."""
    idle = ProbeHelper(idle_s=0.2)
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    assert idle(photo).refusal is None
    pid = idle.pid
    assert pid is not None
    until(lambda: not os.path.exists(f"/proc/{pid}"), seconds=10)  # reaped: not even a zombie
    assert idle.started == 1 and idle.pid is None  # nothing new started to clean up after the old one
    assert idle(photo).refusal is None and idle.started == 2  # and the next file still gets one
    idle.close()


def test_a_new_idle_time_applies_to_the_next_helper_and_zero_means_one_file_each(tmp_path: Path) -> None:
    helper = ProbeHelper(idle_s=60)
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    assert helper(photo).refusal is None
    first = helper.pid
    assert first is not None and "--idle=60" in _cmdline(first)
    helper.idle_s = 0  # a reload: the running helper keeps its own, the next one takes this
    helper.close()
    for n in (2, 3):  # a helper started for a file answers it, however short its idle time
        assert helper(photo).refusal is None and helper.started == n
        pid = helper.pid or first
        until(lambda: _gone(pid), seconds=10)
    assert helper.pid is None
    helper.close()


def test_a_helper_waits_for_its_first_question_whatever_its_idle_time(tmp_path: Path) -> None:
    """It is started because a file is to be read: a slow start of the caller's side must
    not make it leave before the question arrives (idle 0 would, at once)."""
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    with subprocess.Popen([sys.executable, "-m", "mavi_sync.media.prober", "--idle=0"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=3)  # no question yet: still there
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps({"path": str(photo)}).encode() + b"\n")
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline())["width"] > 0
            assert proc.wait(timeout=10) == 0  # then idle 0: gone after the one answer
        finally:
            proc.kill()


def test_a_helper_whose_daemon_died_leaves_quietly(tmp_path: Path) -> None:
    """The daemon killed while a probe was under way: the answer has nowhere to go. The
    helper must leave without a BrokenPipeError traceback in the journal."""
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    with subprocess.Popen([sys.executable, "-m", "mavi_sync.media.prober"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reading end is gone, as when the daemon dies
        proc.stdin.write(json.dumps({"path": str(photo)}).encode() + b"\n")
        proc.stdin.flush()
        try:
            code = proc.wait(timeout=20)
        finally:
            proc.kill()
        errors = proc.stderr.read().decode()
    assert code == 0 and "Traceback" not in errors and "BrokenPipe" not in errors, errors


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_the_helper_is_recycled_after_max_probes(tmp_path: Path) -> None:
    short = ProbeHelper(max_probes=2)
    photo = write_image(tmp_path / "a.jpg", ImageSpec())
    answers = [short(photo) for _ in range(5)]
    assert all(a.refusal is None for a in answers) and short.started == 3
    short.close()


def test_the_helper_sees_no_key_in_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAVI_API_KEY", "sk-mavi-not-for-the-helper")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    echo = ProbeHelper(command=[sys.executable, "-c", ENV_ECHO])
    names = echo(tmp_path).notes
    assert "PATH" in names and "MAVI_API_KEY" not in names and "CREDENTIALS_DIRECTORY" not in names
    echo.close()


def test_close_ends_the_helper(tmp_path: Path, helper: ProbeHelper) -> None:
    helper(tmp_path)
    pid = helper.pid
    assert pid is not None
    helper.close()
    assert helper.pid is None and _gone(pid)


def _gone(pid: int) -> bool:
    """The process has exited (a zombie counts: its parent has not asked yet)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_wire_format_is_plain_json(tmp_path: Path) -> None:
    """What crosses the pipe is JSON a person can read in a debugger: no pickles."""
    wire = json.dumps(info_to_wire(probe_here(_files(tmp_path)[1])))
    assert "\\udce9" in wire and json.loads(wire)["kind"] == "jpeg"
