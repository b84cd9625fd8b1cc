"""Conversions, against the tools people use for the same job, in the same run:
- HEIC → JPEG photos per second: the daemon's probe helper (what an upload uses) against
  `heif-convert -q 90` (Debian's libheif-examples) on the same 12-megapixel HEIC;
- MPEG-TS → MP4 remux MB/s: the helper against `ffmpeg -c copy` on the same clip;
- MPEG-4 Part 2 → H.264 transcode frames/s: the niced transcode helper against the `ffmpeg`
  CLI with the same encoder settings (libx264 veryfast, CRF 23, AAC);
- the helper's peak memory (VmHWM) converting a 48-megapixel HEIC (8064x6048, an iPhone's
  48 MP mode), the figure a small box must have room for. It is written as phones write
  big photos, a grid of 512x512 HEVC tiles: written as one HEVC image, pillow-heif's own
  decoder refuses noisy pictures that big ("did not give a decompressed image").
The reference tools come from Debian's packages; `make bench` installs them where it can
(root) and this figure says so and measures only mavi-sync's side where it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

from bench.harness import Spread
from mavi_sync.media.prober import ProbeHelper


def _heic(path: Path, size: tuple[int, int], grid: int = 0) -> Path:
    """A photo-like HEIC: smooth gradients with fine noise, as a phone's sensor gives;
    `grid`: tiles of that size, as phones write big photos."""
    import pillow_heif
    from PIL import Image, ImageChops
    pillow_heif.register_heif_opener()
    w, h = size
    gradient = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    before = pillow_heif.options.GRID_TILE_SIZE
    pillow_heif.options.GRID_TILE_SIZE = grid
    try:
        ImageChops.add(gradient, noise, scale=1.3).save(path, quality=80)
    finally:
        pillow_heif.options.GRID_TILE_SIZE = before
    return path


def _ts(path: Path, frames: int = 300, size: tuple[int, int] = (640, 360)) -> Path:
    """An H.264 MPEG-TS clip with a camera's bitrate (noisy frames), 25 fps."""
    import av
    from PIL import Image
    noise = [Image.effect_noise(size, 40 + k).convert("RGB") for k in range(8)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(frames):
            frame = av.VideoFrame.from_image(noise[i % len(noise)])
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _tool(name: str) -> Optional[str]:
    return shutil.which(name)


def photos(root: Path, files: int, runs: int) -> dict[str, Any]:
    src = _heic(root / "photo.heic", (4032, 3024))
    helper = ProbeHelper()
    try:
        helper(src)  # a warm helper, as the daemon's is while a dump arrives
        ours = [files / _timed(lambda: [helper.convert(str(src), str(root / f"o{i}.jpg"), "jpeg",
                                                       {"quality": 90, "max_bytes": 20_000_000})
                                        for i in range(files)]) for _ in range(runs)]
    finally:
        helper.close()
    out: dict[str, Any] = {"megapixels": 12.2, "files": files, "ours_per_s": Spread.of(ours).as_json(),
                           "jpeg_bytes": os.path.getsize(root / "o0.jpg")}
    tool = _tool("heif-convert")
    if tool is None:
        out["reference"] = "heif-convert not installed (Debian: libheif-examples)"
        return out
    ref = [files / _timed(lambda: [subprocess.run([tool, "-q", "90", str(src), str(root / f"r{i}.jpg")],
                                                  check=True, capture_output=True) for i in range(files)])
           for _ in range(runs)]
    out["reference_per_s"] = Spread.of(ref).as_json()
    out["ratio"] = Spread.of([a / b for a, b in zip(ours, ref)]).as_json()
    return out


def remux(root: Path, runs: int) -> dict[str, Any]:
    src = _ts(root / "clip.ts")
    mb = os.path.getsize(src) / 1e6
    helper = ProbeHelper()
    try:
        helper(src)
        ours = [mb / _timed(lambda: helper.convert(str(src), str(root / "o.mp4"), "mp4", {})) for _ in range(runs)]
    finally:
        helper.close()
    out: dict[str, Any] = {"mb": round(mb, 1), "ours_mb_per_s": Spread.of(ours).as_json()}
    tool = _tool("ffmpeg")
    if tool is None:
        out["reference"] = "ffmpeg not installed (Debian: ffmpeg)"
        return out
    ref = [mb / _timed(lambda: subprocess.run([tool, "-v", "error", "-y", "-i", str(src), "-c", "copy",
                                               str(root / "r.mp4")], check=True)) for _ in range(runs)]
    out["reference_mb_per_s"] = Spread.of(ref).as_json()
    out["ratio"] = Spread.of([a / b for a, b in zip(ours, ref)]).as_json()
    return out


def transcode(root: Path, runs: int) -> dict[str, Any]:
    from mavi_sync.dev.samples import VideoSpec, write_video
    from mavi_sync.media.convert import TRANSCODE_CRF, TRANSCODE_PRESET
    seconds, fps = 10, 25
    src = write_video(root / "clip.avi", VideoSpec(codec="mpeg4", seconds=seconds, fps=fps, size=(640, 480),
                                                   audio=True))
    frames = seconds * fps
    helper = ProbeHelper(timeout_s=3600, nice=10)  # as the daemon's transcoder runs
    try:
        helper(src)
        ours = [frames / _timed(lambda: helper.convert(str(src), str(root / "t.mp4"), "h264", {}))
                for _ in range(runs)]
    finally:
        helper.close()
    out: dict[str, Any] = {"frames": frames, "size": "640x480", "ours_fps": Spread.of(ours).as_json()}
    tool = _tool("ffmpeg")
    if tool is None:
        out["reference"] = "ffmpeg not installed (Debian: ffmpeg)"
        return out
    command = [tool, "-v", "error", "-y", "-i", str(src), "-c:v", "libx264", "-preset", TRANSCODE_PRESET,
               "-crf", TRANSCODE_CRF, "-pix_fmt", "yuv420p", "-c:a", "aac", str(root / "rt.mp4")]
    ref = [frames / _timed(lambda: subprocess.run(command, check=True)) for _ in range(runs)]
    out["reference_fps"] = Spread.of(ref).as_json()
    out["ratio"] = Spread.of([a / b for a, b in zip(ours, ref)]).as_json()
    return out


def memory(root: Path) -> dict[str, Any]:
    src = _heic(root / "big.heic", (8064, 6048), grid=512)
    helper = ProbeHelper()
    try:
        helper(src)
        done = helper.convert(str(src), str(root / "big.jpg"), "jpeg", {"quality": 90, "max_bytes": 20_000_000})
        pid = helper.pid
        assert pid is not None
        status = Path(f"/proc/{pid}/status").read_text()
        hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
    finally:
        helper.close()
    return {"megapixels": 48.8, "helper_vmhwm_mb": round(hwm, 1), "jpeg_mb": round(done.size / 1e6, 2),
            "quality": done.quality, "scale": done.scale}


def measure(runs: int, files: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mavi-bench-convert-") as tmp:
        root = Path(tmp)
        return {"photos": photos(root, files, runs), "remux": remux(root, runs), "transcode": transcode(root, runs),
                "memory": memory(root)}
