"""Where probing runs: in this process (one-shot commands) or in a helper process (the daemon).

The daemon runs for years next to the cameras. Probing maps FFmpeg, x265 and Pillow
(tens of MB) and hands hostile bytes to C code, so the daemon keeps all of that in a
helper process it talks to over a pipe, one JSON line each way:
- the daemon's own memory stays small while it streams multi-GB uploads;
- a probe that crashes (a segfault in a codec) or hangs costs one refusal, not the daemon;
- the helper exits after `idle_s` without work (`[uploads] probe_idle_s`) and after
  `max_probes` probes (whatever the codecs leak goes with it), and is started again on
  the next probe; it always waits for the question it was started for.

`python -m mavi_sync.media.prober` is the helper's side.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any, Callable, Mapping, Optional, Sequence

from mavi_sync.errors import ConversionError
from mavi_sync.media.model import Converted, MediaInfo, info_from_wire, info_to_wire

Prober = Callable[["str | os.PathLike[str]"], MediaInfo]
# (source, destination, "jpeg" or "mp4", options) -> what was written; raises ConversionError.
# Options: jpeg: quality, max_bytes; mp4: creation_time (ISO, UTC) or none; h264: the same and
# progress (a file the conversion rewrites with how far it got).
Converter = Callable[[str, str, str, Mapping[str, Any]], Converted]

TIMEOUT_S = 120.0  # FFmpeg's own read bounds (container._OPEN_OPTIONS) end far sooner
IDLE_S = 10.0  # a dump arriving faster than this keeps one helper; a trickle restarts it (0.15 s CPU)
MAX_PROBES = 2000
TRANSCODE_TIMEOUT_S = 6 * 3600.0  # a 2-hour MJPEG clip on a slow box; a hang still ends
TRANSCODE_NICE = 10
IDLE_EXIT = 0  # the helper's exit status when it leaves on its own (idle, recycled, stdin closed)
# What the helper inherits from the environment: never a key (the daemon may hold one
# in MAVI_API_KEY or a credentials directory), only what Python and FFmpeg need.
_ENV_KEPT = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def probe_here(path: "str | os.PathLike[str]") -> MediaInfo:
    """Probe in this process: for one-shot commands (`inspect`, `scan`, `upload`)."""
    # Imported here, not at the top: processes that never probe never map FFmpeg.
    from mavi_sync.media.probe import probe
    return probe(path)


def convert_here(src: str, dest: str, to: str, options: Mapping[str, Any]) -> Converted:
    """Convert in this process: for one-shot commands (`inspect`, `upload`)."""
    from mavi_sync.media.convert import clip_out, to_h264, to_jpeg, to_mp4
    if to == "mp4":
        return to_mp4(src, dest, creation_time=options.get("creation_time"))
    if to == "h264":
        return to_h264(src, dest, creation_time=options.get("creation_time"), progress=options.get("progress"))
    if to == "clip":
        return clip_out(src, dest, offset=int(options["offset"]), size=int(options["size"]))
    return to_jpeg(src, dest, quality=int(options["quality"]), max_bytes=int(options["max_bytes"]))


class ProbeHelper:
    """A `Prober` that runs `probe` in a helper process; thread-safe (one probe at a time:
    probing reads headers only, milliseconds next to an upload). A crash or a hang is the
    file's refusal; only a helper that cannot be started at all raises (OSError), so the
    file is tried again later instead of being refused."""

    def __init__(self, *, timeout_s: float = TIMEOUT_S, idle_s: float = IDLE_S, max_probes: int = MAX_PROBES,
                 command: Optional[Sequence[str]] = None, nice: int = 0) -> None:
        self.timeout_s = timeout_s
        self.nice = nice  # a helper for long CPU work (transcoding) yields to everything else
        self.idle_s = idle_s  # may be changed (config reload): the next helper started uses it
        self.max_probes = max_probes
        self._command = list(command) if command else None
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self.started = 0  # helpers started so far: how the tests see a restart

    @classmethod
    def for_transcoding(cls, idle_s: float) -> "ProbeHelper":
        """A helper of its own for transcodes: minutes of CPU each, so niced, and with a
        timeout for hours; probing the next files never waits behind one."""
        return cls(timeout_s=TRANSCODE_TIMEOUT_S, idle_s=idle_s, nice=TRANSCODE_NICE)

    def command(self) -> list[str]:
        return self._command or [sys.executable, "-m", "mavi_sync.media.prober", f"--idle={self.idle_s:g}",
                                 f"--max={self.max_probes}", *([f"--nice={self.nice}"] if self.nice else [])]

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def __call__(self, path: "str | os.PathLike[str]") -> MediaInfo:
        text = os.fspath(path)
        # Absolute: the helper runs in "/", so that `-m` finds nothing but the installed package.
        answer = self._request({"path": os.path.abspath(text)})
        if isinstance(answer, dict):
            try:
                return dataclasses.replace(info_from_wire(answer), path=text)
            except (ValueError, KeyError, TypeError) as exc:  # a bug on the helper's side: start afresh
                self.close()
                answer = f"the probe helper answered nonsense ({exc.__class__.__name__})"
        return _refusal(text, answer, self.timeout_s)

    def convert(self, src: str, dest: str, to: str, options: Mapping[str, Any]) -> Converted:
        """`src` made a `to` ("jpeg", "mp4") at `dest`, in the helper (Pillow, libheif and
        FFmpeg stay out of the daemon). Raises ConversionError with a reason for a person;
        OSError when no helper can be started at all."""
        answer = self._request({"op": "convert", "to": to, "path": os.path.abspath(src),
                                "dest": os.path.abspath(dest), "options": dict(options)})
        if isinstance(answer, dict) and "converted" in answer:
            return Converted.from_wire(answer["converted"])
        if isinstance(answer, dict):
            raise ConversionError(str(answer.get("failed") or "the conversion helper gave no reason"))
        raise ConversionError(_refusal(src, answer, self.timeout_s).refusal or "the conversion failed")

    def _request(self, question: dict[str, Any]) -> "dict[str, Any] | int | str":
        """The helper's answer as a dict, or why there is none (an exit status, or a text)."""
        request = json.dumps(question).encode("ascii") + b"\n"
        with self._lock:
            # Twice at most: the helper may have left (idle, recycled) just as we asked.
            for _ in range(2):
                answer = self._ask(request)
                if isinstance(answer, dict) or answer != IDLE_EXIT:
                    return answer
        return "the probe helper keeps exiting without an answer"

    def close(self) -> None:
        with self._lock:
            self._stop()

    # -- one exchange -----------------------------------------------------------------------
    def _ask(self, request: bytes) -> "dict[str, Any] | int | str":
        """The answer; or the helper's exit status when it left; or why there is none."""
        try:
            proc = self._running()
        except OSError as exc:  # no process to be had (EAGAIN, ENOMEM): not the file's fault
            raise OSError(exc.errno, f"the probe helper could not start ({exc.strerror or exc})") from exc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(request)
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return self._reap()
        line = _read_line(proc.stdout, time.monotonic() + self.timeout_s)
        if line is None:
            proc.kill()  # stuck in C code: nothing else would stop it
            self._reap()
            return "timeout"
        if not line:
            return self._reap()
        try:
            answer = json.loads(line)
        except ValueError as exc:  # a bug on the helper's side: start afresh
            self._stop()
            return f"the probe helper answered nonsense ({exc.__class__.__name__})"
        if not isinstance(answer, dict):
            self._stop()
            return "the probe helper answered nonsense (not an object)"
        return answer

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._reap()
        env = {k: v for k, v in os.environ.items() if k in _ENV_KEPT or k.startswith("LC_")}
        self._proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/")
        self.started += 1
        threading.Thread(target=_reap_when_gone, args=(self._proc,), name="probe-reaper", daemon=True).start()
        return self._proc

    def _reap(self) -> int:
        """Wait for a helper that has gone (or is going): its exit status, negative for a signal."""
        proc, self._proc = self._proc, None
        if proc is None:
            return IDLE_EXIT
        for stream in (proc.stdin, proc.stdout):
            _close_quietly(stream)
        try:
            return proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def _stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            _close_quietly(proc.stdin)  # a helper that is listening leaves on end of input
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._reap()


def _reap_when_gone(proc: "subprocess.Popen[bytes]") -> None:
    """Reap the helper as soon as it exits. It leaves by itself when idle, and the daemon may
    then have no file to read for days: without this it stays a `<defunct>` zombie until the
    next helper is started. WNOWAIT waits without reaping, so that Popen alone reaps (under
    its own lock) and a `_reap` by the caller's thread meanwhile is harmless."""
    try:
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # reaped already: closed or replaced by the caller's thread
        return
    proc.poll()


def _read_line(stream: IO[bytes], deadline: float) -> Optional[bytes]:
    """One line from the helper; b"" when it closed its end; None at the deadline."""
    fd = stream.fileno()
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b""
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)


def _refusal(path: str, why: "int | str", timeout_s: float) -> MediaInfo:
    if why == "timeout":
        reason = f"reading the file's format took over {timeout_s:g} s; the media library gave up on it"
    elif isinstance(why, int):
        name = signal.Signals(-why).name if why < 0 and -why in signal.valid_signals() else f"status {why}"
        reason = f"the media library crashed reading this file ({name}); the daemon is unharmed"
    else:
        reason = why
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0
    return MediaInfo(path=path, size=size, refusal=reason)


def _close_quietly(stream: Optional[IO[bytes]]) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass


# -- the helper's side ------------------------------------------------------------------------
def serve(idle_s: float, max_probes: int) -> int:
    """Answer one probe per input line until idle, recycled or end of input."""
    from mavi_sync.media.probe import probe
    # The answers get their own copy of stdout; fd 1 goes to stderr so that nothing a C
    # library prints can be taken for an answer.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the daemon is the daemon's to handle
    stdin = sys.stdin.buffer
    wait: Optional[float] = None  # the first question is on its way: this helper was started for it
    for _ in range(max_probes):
        if not select.select([stdin], [], [], wait)[0]:
            return IDLE_EXIT
        wait = idle_s
        line = stdin.readline()
        if not line:
            return IDLE_EXIT
        try:
            answers.write(json.dumps(_answer(json.loads(line), probe)).encode("ascii") + b"\n")
            answers.flush()
        except BrokenPipeError:  # the daemon is gone: nobody to answer, nothing to say in the journal
            _mute(answers)
            return IDLE_EXIT
    return IDLE_EXIT


def _answer(question: dict[str, Any], probe: Callable[[str], MediaInfo]) -> dict[str, Any]:
    """One question, answered as the wire wants it: a probe (the default) or a conversion."""
    if question.get("op") != "convert":
        return info_to_wire(probe(question["path"]))
    try:
        done = convert_here(question["path"], question["dest"], str(question["to"]), question["options"])
    except ConversionError as exc:
        return {"failed": str(exc)}
    except OSError as exc:  # the destination could not be written: the staging disk
        return {"failed": f"the JPEG could not be written ({exc.strerror or exc})"}
    return {"converted": done.to_wire()}


def _mute(stream: IO[bytes]) -> None:
    """Point `stream`'s descriptor at /dev/null, so that the flush at exit fails no more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


def _main(argv: Sequence[str]) -> int:
    options: dict[str, Any] = dict(arg.lstrip("-").split("=", 1) for arg in argv)
    if int(options.get("nice", 0)):
        os.nice(int(options["nice"]))
    return serve(float(options.get("idle", IDLE_S)), int(options.get("max", MAX_PROBES)))


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
