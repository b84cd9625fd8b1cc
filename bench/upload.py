"""Big files: upload throughput and CPU per GB against curl (+ sha256sum), and the daemon's
peak memory on the signed-URL path for 1 GB and 4 GB.

The files are real MP4s (a short H.264 clip encoded by PyAV, so the probe accepts them)
grown to size with a top-level `free` box left sparse: no disk is used, the bytes read are
zeros, and both the daemon and curl read the same file. Each run's file carries its own
marker inside the box, so its content hash is new and the daemon really uploads it.

- Throughput: the emulator stamps when an upload request arrives and when its body has
  been read; size / (done - arrived) for the daemon's request and for
  `curl -F file=@...` to the same endpoint with the same key.
- CPU: the daemon's utime+stime (from /proc), with its probe helper's, from the moment the
  file appears until its upload is answered: probe (the helper's start-up included), hash,
  send and the ledger. The reference is curl's CPU
  plus `sha256sum`'s on the same file (rusage of each child).
- Memory: VmHWM (the kernel's peak resident set of that process: not ru_maxrss, which a
  child inherits from its parent across fork+exec) of a fresh daemon that uploads one
  file through the v2 signed-URL flow. The daemon probes in a helper process
  (mavi_sync/media/prober.py), so the helper's peak and the peak of both together (PSS,
  and the plain RSS sum) are reported beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import KEY, DaemonProcess, Spread, scratch
from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import grown_video

GB = 1000**3
VIDEO_UPLOAD = "/serve/api/v1/upload"
STORAGE = "/_storage/"


def warm(path: Path) -> Path:
    """Read the file once, so that its pages are in the page cache as a recording just
    written is. A sparse file's holes are zero-filled into the cache by the first reader,
    which would otherwise charge whoever reads first (curl or the daemon) with the kernel's work."""
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(1 << 20)
        while fh.readinto(buffer):
            pass
    return path


def _cpu_s(pid: int, reaped: bool = False) -> float:
    """utime + stime; with `reaped`, plus those of its children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of the daemon (its reaped children included) and of each live child (the
    probe helper): the helper's work is the daemon's work."""
    cpu = {pid: _cpu_s(pid, reaped=True)}
    for child in children(pid):
        try:
            cpu[child] = _cpu_s(child)
        except OSError:  # it left between the listing and the read (and the daemon reaps it)
            pass
    return cpu


def cpu_since(pid: int, before: dict[int, float]) -> float:
    return sum(cpu - before.get(p, 0.0) for p, cpu in tree_cpu(pid).items())


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def vm_hwm_mb(pid: int) -> float:
    return status_mb(pid, "VmHWM")


class TreePeak:
    """Samples the daemon and its probe helper every 20 ms: the daemon's highest RssAnon (its
    own memory: VmHWM also counts FFmpeg-sized shared-library pages, and how many are
    resident depends on the page cache), the helper's VmHWM, and the highest total of both
    processes at once: as PSS (each shared page counted once, split between the processes
    that map it: what the service costs the box, as its cgroup sees it) and as a plain sum
    of RSS (which counts pages the two share twice)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.anon_peak = self.helper_peak = self.pss_peak = self.rss_sum_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self._sample()
            except (OSError, RuntimeError):  # the daemon has gone
                return

    def _sample(self) -> None:
        self.anon_peak = max(self.anon_peak, status_mb(self.pid, "RssAnon"))
        pss, rss = pss_mb(self.pid), status_mb(self.pid, "VmRSS")
        for child in children(self.pid):
            try:
                pss, rss = pss + pss_mb(child), rss + status_mb(child, "VmRSS")
                self.helper_peak = max(self.helper_peak, status_mb(child, "VmHWM"))
            except (OSError, RuntimeError):  # it left between the listing and the read
                pass
        self.pss_peak = max(self.pss_peak, pss)
        self.rss_sum_peak = max(self.rss_sum_peak, rss)

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss in /proc/{pid}/smaps_rollup")


def children(pid: int) -> list[int]:
    """The process's children, whichever of its threads started them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _child(argv: list[str]) -> float:
    """Run a command; return its CPU seconds (user + system) from its own rusage."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {proc.returncode}")
    return usage.ru_utime + usage.ru_stime


def _requests(admin: Admin, path: str) -> list[dict[str, Any]]:
    return [e for e in admin.stats()["log"] if e["path"].startswith(path) and "done" in e]


def curl_run(url: str, file: Path) -> dict[str, float]:
    admin = Admin(url)
    before = len(_requests(admin, VIDEO_UPLOAD))
    cpu = _child(["curl", "-sS", "--fail", "-o", "/dev/null", "-H", f"Authorization: {KEY}",
                  "-F", f"file=@{file};type=video/mp4", "-F", "unique_id=bench", url + VIDEO_UPLOAD])
    entry = _requests(admin, VIDEO_UPLOAD)[before]
    return {"mb_per_s": file.stat().st_size / (entry["done"] - entry["at"]) / 1e6, "cpu_s": cpu}


def daemon_run(daemon: DaemonProcess, admin: Admin, staging: Path, folder: Path, size: int,
               marker: str, path: str = VIDEO_UPLOAD) -> dict[str, float]:
    """Move one new big file into the running daemon's folder; wait for its upload."""
    assert daemon.proc is not None
    file = warm(grown_video(staging / f"{marker}.mp4", size, marker))
    before = len(_requests(admin, path))
    cpu0 = tree_cpu(daemon.proc.pid)
    os.rename(file, folder / file.name)  # appears whole, as a finished recording does
    entry = daemon.wait_for(lambda: (_requests(admin, path)[before:] or [None])[0], 60 + size / 20e6)
    cpu = cpu_since(daemon.proc.pid, cpu0)
    return {"mb_per_s": size / (entry["done"] - entry["at"]) / 1e6, "cpu_s": cpu}


def throughput_and_cpu(url: str, size: int, runs: int) -> dict[str, Any]:
    admin = Admin(url)
    with scratch("mavi-bench-upload-", url, uploads="rate_limit_per_minute = 600",
                 folder_extra='target = "video"') as (root, folder, staging, config):
        curls, sums, ours = [], [], []
        openssl: list[float | None] = []
        with DaemonProcess(config, root / "daemon.log") as daemon:
            daemon.wait_for(lambda: (root / "ledger.sqlite3").exists(), 60)
            time.sleep(1)  # past its start-up: imports and the first walk are not the upload's cost
            for run in range(runs):
                ref = warm(grown_video(staging / f"curl-{run}.mp4", size, f"curl-{run}"))
                curls.append(curl_run(url, ref))
                sums.append(_child(["sha256sum", str(ref)]))
                openssl.append(_child(["openssl", "dgst", "-sha256", str(ref)]) if shutil.which("openssl") else None)
                ref.unlink()
                ours.append(daemon_run(daemon, admin, staging, folder, size, f"daemon-{run}"))
    per_gb = GB / size
    return {
        "size_mb": size / 1e6, "runs": runs,
        "daemon_mb_per_s": Spread.of([r["mb_per_s"] for r in ours]).as_json(),
        "curl_mb_per_s": Spread.of([r["mb_per_s"] for r in curls]).as_json(),
        "throughput_ratio": Spread.of([o["mb_per_s"] / c["mb_per_s"] for o, c in zip(ours, curls)]).as_json(),
        "daemon_cpu_s_per_gb": Spread.of([r["cpu_s"] * per_gb for r in ours]).as_json(),
        "reference_cpu_s_per_gb": Spread.of([(c["cpu_s"] + s) * per_gb for c, s in zip(curls, sums)]).as_json(),
        "curl_cpu_s_per_gb": Spread.of([c["cpu_s"] * per_gb for c in curls]).as_json(),
        "sha256sum_cpu_s_per_gb": Spread.of([s * per_gb for s in sums]).as_json(),
        "cpu_ratio": Spread.of([o["cpu_s"] / (c["cpu_s"] + s) for o, c, s in zip(ours, curls, sums)]).as_json(),
        # Stricter: coreutils' sha256sum does not use the CPU's SHA instructions; OpenSSL
        # (which Python's hashlib uses too) does.
        "openssl_sha256_cpu_s_per_gb": _spread_or_none([o * per_gb for o in openssl if o is not None]),
        "cpu_ratio_vs_curl_plus_openssl": _spread_or_none(
            [d["cpu_s"] / (c["cpu_s"] + o) for d, c, o in zip(ours, curls, openssl) if o is not None]),
    }


def _spread_or_none(values: list[float]) -> dict[str, float] | None:
    return Spread.of(values).as_json() if values else None


def peak_rss(url: str, size: int, prefix: tuple[str, ...] = ()) -> dict[str, float]:
    """A fresh daemon uploads one file of `size` to the asset store (signed URL above
    500 MB); its VmHWM afterwards is the peak of its whole life, start-up included."""
    admin = Admin(url)
    with scratch("mavi-bench-rss-", url, folder_extra='target = "asset"') as (root, folder, staging, config):
        with DaemonProcess(config, root / "daemon.log") as daemon:
            assert daemon.proc is not None
            daemon.wait_for(lambda: (root / "ledger.sqlite3").exists(), 60)
            time.sleep(1)
            before = vm_hwm_mb(daemon.proc.pid)
            with TreePeak(daemon.proc.pid) as peaks:
                result = daemon_run(daemon, admin, staging, folder, size, f"rss-{size}", path=STORAGE)
            after = vm_hwm_mb(daemon.proc.pid)
    return {"size_mb": size / 1e6, "peak_mb": after, "before_upload_mb": before, "anon_peak_mb": peaks.anon_peak,
            "helper_peak_mb": peaks.helper_peak, "pss_total_peak_mb": peaks.pss_peak,
            "rss_sum_peak_mb": peaks.rss_sum_peak, "mb_per_s": result["mb_per_s"]}


def memory(url: str, runs: int, sizes: tuple[int, ...] = (GB, 4 * GB)) -> dict[str, Any]:
    by_size: dict[int, list[dict[str, float]]] = {s: [] for s in sizes}
    for _ in range(runs):
        for size in sizes:
            by_size[size].append(peak_rss(url, size))
    out: dict[str, Any] = {"runs": runs}
    for size, rows in by_size.items():
        out[f"{size / GB:g}gb_peak_mb"] = Spread.of([r["peak_mb"] for r in rows]).as_json()
        out[f"{size / GB:g}gb_before_upload_mb"] = Spread.of([r["before_upload_mb"] for r in rows]).as_json()
        out[f"{size / GB:g}gb_anon_peak_mb"] = Spread.of([r["anon_peak_mb"] for r in rows]).as_json()
        out[f"{size / GB:g}gb_helper_peak_mb"] = Spread.of([r["helper_peak_mb"] for r in rows]).as_json()
        out[f"{size / GB:g}gb_pss_total_peak_mb"] = Spread.of([r["pss_total_peak_mb"] for r in rows]).as_json()
        out[f"{size / GB:g}gb_rss_sum_peak_mb"] = Spread.of([r["rss_sum_peak_mb"] for r in rows]).as_json()
    small, big = by_size[sizes[0]], by_size[sizes[-1]]
    out["growth"] = Spread.of([b["peak_mb"] / s["peak_mb"] for s, b in zip(small, big)]).as_json()
    return out


if __name__ == "__main__":
    import json
    import sys
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    size = int(float(sys.argv[1]) * GB) if len(sys.argv) > 1 else GB
    with tempfile.TemporaryDirectory() as t, \
            EmulatorServer(Path(t), Settings(api_key=KEY, keep_bytes=False)) as server:
        print(json.dumps(throughput_and_cpu(server.url, size, 1), indent=2))
        print(json.dumps(peak_rss(server.url, size), indent=2))
