"""A real systemd (the machine's own, 252 here) booted as PID 1 of new namespaces on a
throw-away overlay of `/`, to run the units as they would run on a user's box: credentials,
DynamicUser, the sandbox, READY/STATUS/WATCHDOG, reload, stop. Nothing on the host changes.

How and why each step: ../shared/notes/systemd-in-a-namespace.md (measured on this machine).
`Machine.unavailable()` says why it cannot run here (not root, no cgroup2, no overlayfs…);
the tests skip with that reason.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Optional

SYSTEMD = Path("/lib/systemd/systemd")
BOOT_TARGET = "mavi-test.target"
MASKED = ("getty.target", "getty@tty1.service", "console-getty.service", "systemd-sysctl.service",
          "systemd-modules-load.service", "networking.service", "systemd-networkd.service",
          "systemd-timesyncd.service", "systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount",
          "postgresql.service", "timers.target", "sockets.target", "systemd-logind.service",
          "systemd-udevd.service", "systemd-udev-trigger.service", "systemd-remount-fs.service",
          "cron.service", "ssh.service", "systemd-firstboot.service", "e2scrub_reap.service",
          "systemd-random-seed.service", "systemd-update-utmp.service", "dbus.service", "dbus.socket")

INIT = r"""#!/bin/bash
# PID 1 of the new namespaces until it execs systemd: an overlay of / as the new root.
set -eu
W="$1"
mount -t tmpfs -o mode=755 tmpfs "$W/t"
mkdir -p "$W/t/upper" "$W/t/work" "$W/t/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/t/upper,workdir=$W/t/work" "$W/t/root"
R="$W/t/root"
cp -a "$W/files/." "$R/"
mkdir -p "$R/srv/camera" "$R/srv/camera2" "$R/home/cams"
mount --bind "$W/camera" "$R/srv/camera"
mount --bind "$W/camera2" "$R/srv/camera2"
mount --bind "$W/home" "$R/home/cams"
mount -t proc proc "$R/proc"
mount --bind /proc/sys "$R/proc/sys" && mount -o remount,bind,ro "$R/proc/sys"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t cgroup2 -o nsdelegate cgroup2 "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
# A checkout under /tmp (CI clones often are) is bound outside it: see Machine._exec_start
while read -r src dest; do mkdir -p "$R$dest" && mount --bind "$src" "$R$dest"; done < "$W/binds"
touch "$R/dev/console" && mount --bind "$W/console.log" "$R/dev/console"
mkdir -p "$R/oldroot"
cd "$R"
pivot_root . oldroot
umount -l /oldroot
mount --make-rshared /
export container=mavi-test
exec /lib/systemd/systemd --system --unit=mavi-test.target
"""


class Machine:
    """One booted systemd. `files` maps absolute paths in the container to their text; the
    checkout's venv is what `ExecStart=` runs (a drop-in), and `camera`/`camera2`/`home` on
    the host are `/srv/camera`, `/srv/camera2` and `/home/cams` inside."""

    def __init__(self, work: Path, venv: Path, files: dict[str, str]) -> None:
        self.work, self.venv, self.files = work, venv, files
        self.camera, self.camera2, self.home = work / "camera", work / "camera2", work / "home"
        self.cgroup: Optional[Path] = None
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.pid1: Optional[int] = None

    @staticmethod
    def unavailable() -> Optional[str]:
        """Why a systemd cannot be booted here, or None."""
        if os.geteuid() != 0:
            return "booting systemd in namespaces needs root"
        if not SYSTEMD.exists():
            return f"{SYSTEMD} is not installed"
        for tool in ("unshare", "nsenter", "setsid"):
            if shutil.which(tool) is None:
                return f"{tool} (util-linux) is not installed"
        if _cgroup2() is None:
            return "no writable cgroup2 hierarchy to put the container in"
        if "overlay" not in Path("/proc/filesystems").read_text():
            return "the kernel has no overlayfs"
        return None

    # -- life cycle ---------------------------------------------------------------------
    def boot(self, timeout_s: float = 30.0) -> "Machine":
        self._lay_out()
        root = _cgroup2()
        assert root is not None
        self.cgroup = root / f"mavi-test-{os.getpid()}-{time.monotonic_ns()}"
        self.cgroup.mkdir()
        launcher = f'echo $$ > {self.cgroup}/cgroup.procs && exec unshare --pid --fork --mount --uts --ipc ' \
                   f'--cgroup --propagation private --kill-child {self.work}/init.sh {self.work}'
        with open(self.work / "launcher.log", "wb") as log:
            self.proc = subprocess.Popen(["setsid", "bash", "-c", launcher], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pid1 = self.pid1 or self._child_of_unshare()
            if self.pid1 is not None:
                state = self.ctl("is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        log = (self.work / "console.log").read_text(errors="replace")[-3000:]
        launcher_log = (self.work / "launcher.log").read_text(errors="replace")[-2000:]
        self.shutdown()
        raise RuntimeError(f"systemd did not boot:\n{launcher_log}\n{log}")

    def shutdown(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            if self.pid1 is not None:
                self.ctl("--no-block", "poweroff", check=False)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.cgroup is not None:
            _remove_cgroup(self.cgroup)
            self.cgroup = None

    def __enter__(self) -> "Machine":
        return self.boot()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- inside ---------------------------------------------------------------------------
    def run(self, *argv: str, check: bool = True, timeout: float = 60,
            input: Optional[str] = None) -> subprocess.CompletedProcess[str]:
        """A command in the container's namespaces (as root there)."""
        assert self.pid1 is not None
        result = subprocess.run(["nsenter", "-t", str(self.pid1), "-m", "-u", "-i", "-p", "-C", *argv],
                                capture_output=True, text=True, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} exited {result.returncode}: {result.stdout}{result.stderr}")
        return result

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("systemctl", *args, check=check)

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.ctl("show", unit, *(f"--property={p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str) -> str:
        return self.run("journalctl", "--no-pager", "-o", "cat", "-u", unit, check=False).stdout

    def write(self, path: str, text: str) -> None:
        self.run("sh", "-c", f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}'", input=text)

    def wait_for(self, unit: str, prop: str, want: "str | tuple[str, ...]", timeout_s: float = 30) -> str:
        """Until the property matches one of `want` (shell patterns); AssertionError with the journal."""
        wants = (want,) if isinstance(want, str) else want
        deadline = time.monotonic() + timeout_s
        value = ""
        while time.monotonic() < deadline:
            value = self.show(unit, prop).get(prop, "")
            if any(fnmatch.fnmatchcase(value, w) for w in wants):
                return value
            time.sleep(0.25)
        raise AssertionError(f"{unit} {prop}={value!r}, not {wants}, after {timeout_s} s:\n{self.journal(unit)[-3000:]}")

    # -- set-up ---------------------------------------------------------------------------
    def _lay_out(self) -> None:
        for d in (self.camera, self.camera2, self.home, self.work / "t", self.work / "files"):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.camera, self.camera2, self.home):
            d.chmod(0o777)  # the service's dynamic user reads (and archives) here
        (self.work / "console.log").touch()
        (self.work / "binds").write_text("".join(f"{src} {dest}\n" for src, dest in self._checkout_binds()))
        init = self.work / "init.sh"
        init.write_text(INIT)
        init.chmod(0o755)
        files = dict(self.files)
        for unit in ("mavi-sync.service", "mavi-sync@.service"):
            config = "config.toml" if "@" not in unit else "%i.toml"
            start, _, env = self._exec_start().partition("\n")
            files[f"/etc/systemd/system/{unit}.d/test.conf"] = (
                f"[Service]\nExecStart=\nExecStart={start} --config ${{CONFIGURATION_DIRECTORY}}/{config}\n"
                + (env + "\n" if env else ""))
        files[f"/etc/systemd/system/{BOOT_TARGET}"] = (
            "[Unit]\nDescription=mavi-sync test boot\nRequires=basic.target\nAfter=basic.target\n")
        for path, text in files.items():
            dest = self.work / "files" / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
        masked = self.work / "files" / "etc" / "systemd" / "system"
        for unit in MASKED:
            link = masked / unit
            if not link.exists():
                link.symlink_to("/dev/null")
        # A dynamic user must traverse to the interpreter: a pyenv under /root (mode 0700)
        # is opened for traversal in the overlay only.
        for path in _ancestors(Path(os.path.realpath(sys.executable))) + _ancestors(self.venv):
            if path.is_dir() and not path.stat().st_mode & 0o001:
                copy = self.work / "files" / str(path).lstrip("/")
                copy.mkdir(parents=True, exist_ok=True)
                shutil.copystat(path, copy)
                copy.chmod(path.stat().st_mode | 0o011)

    def _checkout_binds(self) -> list[tuple[str, str]]:
        """(host path, path in the container) for a checkout and venv under /tmp or /var/tmp.
        DynamicUser= implies PrivateTmp=, so the service could never see them there (203/EXEC),
        and systemd cannot bind a path into the private /tmp it makes: they are bound to
        /opt/mavi-test instead, and the service runs the interpreter on them by PYTHONPATH."""
        repo = Path(__file__).resolve().parents[2]
        if not any(Path(os.path.realpath(p)).is_relative_to(t) for p in (repo, self.venv)
                   for t in (Path("/tmp"), Path("/var/tmp"))):
            return []
        return [(str(repo), "/opt/mavi-test/src"), (os.path.realpath(self.venv), "/opt/mavi-test/venv")]

    @property
    def cli(self) -> list[str]:
        """`mavi-sync` as a root shell in the container runs it (with the service's view of the checkout)."""
        start, _, env = self._exec_start().partition("\n")
        argv = start.split()[:-1]  # without "run"
        return ["env", env.split("=", 1)[1], *argv] if env else argv

    def _exec_start(self) -> str:
        """What the drop-in runs: the checkout's venv, or (see _checkout_binds) its bound copy."""
        if not self._checkout_binds():
            return f"{self.venv / 'bin' / 'mavi-sync'} run"
        site = Path(sysconfig.get_paths(vars={"base": "/opt/mavi-test/venv", "platbase": "/opt/mavi-test/venv"})
                    ["purelib"])
        return (f"{os.path.realpath(self.venv / 'bin' / 'python')} -m mavi_sync run\n"
                f"Environment=PYTHONPATH=/opt/mavi-test/src:{site}")

    def _child_of_unshare(self) -> Optional[int]:
        assert self.proc is not None
        # setsid → bash (exec) unshare → its child, the container's PID 1
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return None
        for child in children:
            try:
                if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                    return int(child)
            except OSError:
                continue
        return None


def _ancestors(path: Path) -> list[Path]:
    return [p for p in [path, *path.parents] if str(p) != "/"]


def _cgroup2() -> Optional[Path]:
    for candidate in (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
        if (candidate / "cgroup.procs").exists() and os.access(candidate, os.W_OK):
            try:
                if "cgroup2" in subprocess.run(["stat", "-f", "-c", "%T", str(candidate)], capture_output=True,
                                               text=True, timeout=10).stdout:
                    return candidate
            except (OSError, subprocess.SubprocessError):
                return None
    return None


def _remove_cgroup(path: Path) -> None:
    for _ in range(50):
        children = sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        try:
            for child in children:
                child.rmdir()
            path.rmdir()
            return
        except OSError:
            time.sleep(0.2)
