"""A day in the life of one box (tests/e2e/test_day.py): its four folders (an NVR's security
clips with caption sidecars, archived; its video clips, deleted; a phone's photos; a v2
asset folder), its config, the files each hour brings with what must become of each, and
the promises found broken on the way.

Sizes: small in `make test`; MAVI_SOAK=full (`make soak`) repeats the day for about an hour,
with a longer grace for files that look cut short.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_motion_photo, write_video
from mavi_sync.dev.writers import PATTERNS, final_path
from tests.conftest import CORPUS

FULL = os.environ.get("MAVI_SOAK") == "full"
SETTLE_S = 1.5
GRACE_S = 120.0 if FULL else 24.0  # incomplete_grace_s: a file that looks cut short waits this long, then is refused
PAUSE_S = 0.5  # between a writer's rounds: under settle_s, as real writers are
PROBE_S = 2.0  # account_probe_s
MAX_ATTEMPTS = 3  # a file the server keeps failing is failed after this many (seconds, with retry_max_s = 2)
FOLDERS = {"sec": "security", "vid": "video", "phone": "auto", "assets": "asset"}
# The writer patterns of mavi_sync/dev/writers.py, each replayed into the folder whose writers use it.
WRITERS = {"sec": ("append_rounds", "slow_single_open", "preallocated", "old_mtime", "moved_in", "copied_folder"),
           "vid": ("rsync_temp", "syncthing_temp", "part_temp", "crdownload_temp", "truncated_rewrite"),
           "phone": ("proftpd_hidden", "pureftpd_temp", "winscp_temp", "resilio_temp")}


def sha(data: "bytes | Path") -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.read_bytes()).hexdigest()


def corpus(rel: str) -> Optional[Path]:
    """A real-camera file from ../shared/media, or None when the corpus is not there."""
    path = CORPUS / rel
    return path if path.is_file() else None


@dataclass
class Expect:
    """One file written into a watched folder, and what must become of it."""

    path: Path  # where it was written
    sha256: str  # its bytes
    target: Optional[str]  # where it must be confirmed; None: it must be refused
    as_is: bool = True  # the emulator holds these very bytes (else a conversion: the ledger's sent_sha256)
    reason: str = ""  # refused: what the reason must say
    clip: Optional[str] = None  # a motion photo under live_photos = "both": the sha256 of its clip, sent as a video
    now: Optional[Path] = None  # renamed by its owner: where it is now
    copy_of: Optional[Path] = None  # the same content as another file: never uploaded on its own


class Box:
    """One box's folders and state directory under `root`, and what was written into them."""

    def __init__(self, root: Path, metrics_port: int, *, fleet: str = "", seed: int = 0) -> None:
        self.root = root
        self.dirs = {name: root / "in" / name for name in FOLDERS}
        for d in self.dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        self.archive = root / "archive"
        self.stage = root / "stage"
        self.stage.mkdir(exist_ok=True)
        self.key_file = root / "api-key"
        self.metrics_port = metrics_port
        self.fleet = fleet  # the [fleet] table, for a node
        self.expects: list[Expect] = []
        self.notes: list[str] = []  # parts left out, and why (no corpus)
        self.pairs: list[tuple[Path, Path]] = []  # Live Photos: (still, motion)
        self.dropped: list[str] = []  # sha256 of files whose folder left the config before they were sent
        self._n = seed * 100_000  # boxes of one fleet write distinct media
        self.real_media = seed == 0  # the corpus at one site only (elsewhere it would be a copy)
        self._lock = threading.Lock()

    # -- the config -------------------------------------------------------------------------
    def config(self, url: str, *, bandwidth: str, rate_per_minute: int, card: Optional[Path] = None) -> str:
        """The box's config; `card`: an SD card's folder added to the watched ones."""
        folders = "".join(self._folder(name, target) for name, target in FOLDERS.items())
        if card is not None:
            folders += f'[[folders]]\npath = "{card}"\ntarget = "image"\nsettle_s = {SETTLE_S}\n'

        return f"""log_level = "info"
[api]
base_url = "{url}"
security_base_url = "{url}"
asset_base_url = "{url}"
[api.key]
file = "{self.key_file}"
[uploads]
rate_limit_per_minute = {rate_per_minute}
query_rate_limit_per_second = 100
request_retry_initial_s = 0.05
retry_initial_s = 0.5
retry_max_s = 2
max_attempts = {MAX_ATTEMPTS}
probe_idle_s = 3
status_poll_initial_s = 0.2
status_poll_max_s = 0.5
read_timeout_s = 10
shutdown_grace_s = 10
account_probe_s = {PROBE_S}
[ledger]
path = "{self.root / 'ledger.sqlite3'}"
[metrics]
port = {self.metrics_port}
{self.fleet}
{folders}
{bandwidth}
"""

    def _folder(self, name: str, target: str) -> str:
        extra = {"sec": f'caption_sidecar = "beside"\nafter_upload = "archive"\narchive_dir = "{self.archive / name}"\n',
                 "vid": 'after_upload = "delete"\n', "phone": 'live_photos = "both"\n'}.get(name, "")
        table = (f'[[folders]]\npath = "{self.dirs[name]}"\ntarget = "{target}"\nsettle_s = {SETTLE_S}\n'
                 f'incomplete_grace_s = {GRACE_S}\n{extra}')
        return table + ('[folders.security]\nuser_prompt = "Who is at the gate?"\n' if name == "sec" else "")

    # -- distinct real media ----------------------------------------------------------------
    def _next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def _when(self, n: int) -> datetime:
        return datetime(2024, 5, 1, tzinfo=timezone.utc) + timedelta(minutes=n)

    def video_bytes(self, suffix: str = ".mp4", **spec: Any) -> bytes:
        n = self._next()
        spec.setdefault("creation_time", self._when(n).strftime("%Y-%m-%dT%H:%M:%SZ"))
        spec.setdefault("size", (64 + n % 64 * 2, 48))  # distinct even where a container keeps no time (raw, TS)
        tmp = write_video(self.stage / f"gen{n}{suffix}", VideoSpec(seconds=1 + n % 3 * 0.5, **spec))
        data = tmp.read_bytes()
        tmp.unlink()
        return data

    def photo_bytes(self, suffix: str = ".jpg", **spec: Any) -> bytes:
        n = self._next()
        spec.setdefault("taken", self._when(n).strftime("%Y:%m:%d %H:%M:%S"))
        spec.setdefault("color", (n * 37 % 256, n * 11 % 256, 90))
        tmp = write_image(self.stage / f"gen{n}{suffix}", ImageSpec(**spec))
        data = tmp.read_bytes()
        tmp.unlink()
        return data

    # -- files and what must become of them -------------------------------------------------
    def put(self, folder: str, rel: str, data: bytes, target: Optional[str], *, as_is: bool = True,
            reason: str = "", clip: Optional[str] = None, copy_of: Optional[Path] = None) -> Path:
        """Write `data` at `rel` in `folder` (staged beside the tree, then renamed in, as a
        camera's upload does) and expect it confirmed at `target`, or refused for `reason`."""
        path = self.dirs[folder] / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.stage / f"put{self._next()}"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        self.expect(path, sha(data), target, as_is=as_is, reason=reason, clip=clip, copy_of=copy_of)
        return path

    def expect(self, path: Path, digest: str, target: Optional[str], **kw: Any) -> Expect:
        e = Expect(path, digest, target, **kw)
        with self._lock:
            self.expects.append(e)
        return e

    def clip(self, folder: str, rel: str, **spec: Any) -> Path:
        return self.put(folder, rel, self.video_bytes(Path(rel).suffix or ".mp4", **spec),
                        FOLDERS[folder] if folder != "phone" else "video")

    def photo(self, folder: str, rel: str, **spec: Any) -> Path:
        return self.put(folder, rel, self.photo_bytes(**spec), "image" if folder == "phone" else FOLDERS[folder])

    def real(self, r: int, folder: str, rel: str, source: str, target: Optional[str], *, as_is: bool = True,
             reason: str = "") -> Optional[Path]:
        """A file of the real-camera corpus, copied in (in the first round: later ones would be
        copies of it); left out, and said why, without the corpus."""
        if r or not self.real_media:
            return None
        found = corpus(source)
        if found is None:
            self.notes.append(f"{source}: the real-camera corpus is not at {CORPUS}; generated media covers "
                              "the same behaviour")
            return None
        return self.put(folder, rel, found.read_bytes(), target, as_is=as_is, reason=reason)

    def block(self, camera: str) -> Path:
        """Make the archive of `camera` unwritable (a file where its directory must go, as an
        unmounted archive disk leaves a mount point that is not a directory); returns it."""
        blocker = self.archive / "sec" / camera
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_text("the archive disk is not mounted\n")
        return blocker

    def renamed(self, old: Path, new: Path) -> None:
        os.rename(old, new)
        for e in self.expects:
            if e.path == old:
                e.now = new

    def copied(self, src: Path, new: Path) -> None:
        shutil.copyfile(src, new)
        original = next(e for e in self.expects if e.path == src)
        self.expect(new, original.sha256, original.target, as_is=original.as_is, copy_of=src)

    # -- the hours ---------------------------------------------------------------------------
    def night(self, r: int) -> None:
        """What the cameras and the phone left while the daemon was down (round `r`)."""
        for cam in ("cam1", f"door{r:02d}", f"yard{r:02d}"):
            self.clip("sec", f"{cam}/ch01_{r:02d}_0800.mp4")
        self.put("sec", f"cam1/raw_{r:02d}.h264", self.video_bytes(".h264"), "security", as_is=False)
        self.put("sec", f"cam1/notes_{r:02d}.mp4", b"gate code changed, tell the night shift\n" * 20, None,
                 reason="this is a text file")
        self.real(r, "sec", f"cam4/axis_{r:02d}.mp4", "video/axis-ipcam_h264_rtsp-recording.mp4", "security")
        self.real(r, "sec", f"cam4/axis_raw_{r:02d}.h264", "video/axis-ipcam_raw-annexb.h264", "security", as_is=False)
        self.clip("vid", f"2024-05-01/{r:02d}_a.mp4")
        self.put("vid", f"2024-05-01/{r:02d}_ts.ts", self.video_bytes(".ts"), "video", as_is=False)
        whole = self.video_bytes()
        self.put("vid", f"2024-05-01/{r:02d}_half.mp4", whole[: len(whole) // 2], None, reason="not a readable MP4")
        self.put("vid", f"2024-05-01/MVI_{r:02d}.AVI", self.video_bytes(".avi", codec="mpeg4"), None,
                 reason="video codec mpeg4 is not accepted")
        self.real(r, "vid", f"sony_{r:02d}.mts", "video/sony-a7m3_avchd.mts", "video", as_is=False)
        self.real(r, "vid", f"canon_{r:02d}.avi", "video/canon-mvi_mjpeg.avi", None, reason="video codec mjpeg is not accepted")
        self.phone_night(r)
        self.put("assets", f"memo_{r:02d}.wav", wav_bytes(r), "asset")
        self.clip("assets", f"drone_{r:02d}.mp4")
        self.photo("assets", f"scan_{r:02d}.jpg")
        self.put("assets", f"empty_{r:02d}.jpg", b"", None, reason="file is empty")
        self.real(r, "assets", f"webcam_{r:02d}.webm", "video/webcam_chrome-mediarecorder_no-duration.webm", "asset")

    def phone_night(self, r: int) -> None:
        self.put("phone", f"IMG_{r:02d}01.HEIC", self.photo_bytes(".heic", make="Apple", model="iPhone 13"), "image",
                 as_is=False)
        shutter = self._when(self._next())
        live = f"LIVE-{r:02d}-{shutter:%H%M}"
        self.put("phone", f"IMG_{r:02d}02.HEIC", self.photo_bytes(".heic", make="Apple", model="iPhone 13",
                                                                  taken=f"{shutter:%Y:%m:%d %H:%M:%S}", content_id=live),
                 "image", as_is=False)
        self.put("phone", f"IMG_{r:02d}02.MOV", self.video_bytes(".mov", make="Apple", model="iPhone 13",
                                                                 content_id=live), "video")
        self.pairs.append((self.dirs["phone"] / f"IMG_{r:02d}02.HEIC", self.dirs["phone"] / f"IMG_{r:02d}02.MOV"))
        n = self._next()
        motion, movie = write_motion_photo(self.stage / f"mp{n}.jpg", ImageSpec(make="Google", model="Pixel 8",
                                                                                taken=f"{self._when(n):%Y:%m:%d %H:%M:%S}"),
                                           clip=VideoSpec(seconds=1, size=(64 + n % 64 * 2, 48)))
        self.put("phone", f"PXL_{r:02d}.MP.jpg", motion.read_bytes(), "image", clip=sha(movie))
        motion.unlink()
        for i in range(2):
            self.photo("phone", f"IMG_{r:02d}1{i}.jpg", make="Google", model="Pixel 8")
        photo = self.photo_bytes(size=(320, 240))
        self.put("phone", f"IMG_{r:02d}cut.jpg", photo[: len(photo) // 2], None, reason="image data is truncated")
        self.real(r, "phone", f"iphone_{r:02d}.HEIC", "images/heic/apple-iphone11promax_N-W.HEIC", "image", as_is=False)
        self.real(r, "phone", f"galaxy_{r:02d}.heic", "images/heic/samsung-galaxy-s25-ultra.heic", "image", as_is=False)
        self.real(r, "phone", f"trunc_{r:02d}.heic", "corrupt/derived/iphone11pro_exif-at-eof_trunc90pct.heic", None,
                  reason="truncated")

    def writers(self, r: int) -> list[BaseException]:
        """Every writer pattern at once, each into the folder whose writers use it; returns what failed."""
        jobs = []
        for folder, patterns in WRITERS.items():
            for pattern in patterns:
                ext = ".jpg" if folder == "phone" else ".mov" if pattern == "truncated_rewrite" else ".mp4"
                data = self.photo_bytes() if ext == ".jpg" else self.video_bytes(ext)
                final = final_path(self.dirs[folder], pattern, f"{pattern}_{r:02d}{ext}")
                target = "image" if folder == "phone" else FOLDERS[folder]
                jobs.append((pattern, final, data, target))
        errors: list[BaseException] = []

        def write(pattern: str, final: Path, data: bytes, target: str) -> None:
            try:
                own = self.stage / f"w-{final.name}"
                own.mkdir()
                PATTERNS[pattern](final, data, own, PAUSE_S)
                self.expect(final, sha(data), target)
            except BaseException as exc:  # collected: the caller fails on them
                errors.append(exc)

        threads = [threading.Thread(target=write, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return errors

    # -- where things must be at the end ----------------------------------------------------
    def archived_at(self, e: Expect) -> Path:
        return self.archive / "sec" / e.path.relative_to(self.dirs["sec"])

    def folder_of(self, path: Path) -> str:
        return next(name for name, d in self.dirs.items() if d in path.parents)


def wav_bytes(seed: int) -> bytes:
    """A real WAV file (the asset store takes audio), its samples made distinct by `seed`."""
    import io
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes([seed % 256, 1]) * 8000)
    return out.getvalue()
