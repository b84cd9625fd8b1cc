"""Turning what no memories.ai endpoint takes into what one does: a photo (HEIC/HEIF, AVIF,
TIFF) into a JPEG that says what the original says, a camera's MPEG-TS or raw H.264 into an
MP4 (`to_mp4`, at the end). Runs where probing runs: the daemon's helper process.

What is kept, and why it is right:
- the pixels as the original *shows*: pillow-heif applies HEIF's own rotation and mirror
  (`irot`/`imir`) while decoding and says Orientation 1 after; Pillow's AVIF and TIFF
  readers leave the pixels as stored and keep the Orientation tag, so those are turned here.
  Either way the JPEG holds upright pixels and Orientation 1. Keeping the original's
  Orientation on already-rotated pixels turns the photo twice in every viewer that honours
  it (PhotoPrism's HEIC converter did that for years: photoprism#3852, #2726);
- the whole EXIF block otherwise: capture time with its offset and sub-seconds, make and
  model, GPS, lens, everything a later tool may read;
- the XMP packet (keywords, ratings, edits) and the ICC profile (iPhones shoot Display
  P3: without the profile, colours are read as sRGB and look dull).
It stays under the image endpoint's limit: the quality is lowered first, then the size,
and the result says which (`inspect` shows it).
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any, Optional

from PIL import Image

from mavi_sync.errors import ConversionError
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.media.model import Converted

try:  # HEIC/HEIF through pillow-heif (a hard dependency); AVIF is Pillow's own
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover
    pillow_heif = None

ORIENTATION = 0x0112
QUALITY_FLOOR = 60  # below this, JPEG artefacts show before the size drops much: scale instead
SCALE_STEP = 0.8
MAX_STEPS = 12


def to_jpeg(src: "str | os.PathLike[str]", dest: "str | os.PathLike[str]", *, quality: int = 90,
            max_bytes: int = 20 * 1000 * 1000) -> Converted:
    """Write `src` as a JPEG at `dest` (atomically: a temp name, then a rename)."""
    try:
        with Image.open(src) as im:
            im.load()
            exif = im.getexif()
            # No copy of the pixels unless a mode or a turn needs one: at 24 MP each is 72 MB.
            pixels = _upright(_rgb(im), exif.get(ORIENTATION, 1))
            exif[ORIENTATION] = 1  # upright now (see the module's docstring)
            extra = {"exif": exif.tobytes(), "icc_profile": im.info.get("icc_profile") or None,
                     "xmp": _xmp(im.info.get("xmp"))}
            data, used_quality, scale, notes = _fit(pixels, extra, quality, max_bytes)
            size = pixels.size
    except (OSError, ValueError, SyntaxError) as exc:  # what Pillow and libheif raise on bad input
        raise ConversionError(f"the photo could not be decoded for conversion to JPEG ({_why(exc)})") from None
    tmp = f"{os.fspath(dest)}.part"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, dest)
    width, height = (round(size[0] * scale), round(size[1] * scale)) if scale != 1.0 else size
    return Converted(os.fspath(dest), len(data), hashlib.sha256(data).hexdigest(), width, height, used_quality,
                     scale, tuple(notes))


def _fit(pixels: Image.Image, extra: dict[str, Any], quality: int,
         max_bytes: int) -> tuple[bytes, int, float, list[str]]:
    """Encode at `quality`; over `max_bytes`, lower the quality to QUALITY_FLOOR, then scale."""
    q, scale, notes = quality, 1.0, []
    for _ in range(MAX_STEPS):
        image = pixels if scale == 1.0 else pixels.resize(
            (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale))), Image.Resampling.LANCZOS)
        data = _encode(image, q, extra)
        if len(data) <= max_bytes:
            if q != quality:
                notes.append(f"JPEG quality lowered from {quality} to {q} to stay under {max_bytes / 1e6:g} MB")
            if scale != 1.0:
                notes.append(f"scaled to {image.width}x{image.height} ({scale:.0%}) to stay under "
                             f"{max_bytes / 1e6:g} MB")
            return data, q, scale, notes
        if q > QUALITY_FLOOR:
            q = max(QUALITY_FLOOR, q - 10)
        else:
            scale *= SCALE_STEP
    raise ConversionError(f"even a small JPEG of it stays over {max_bytes / 1e6:g} MB")


def _encode(image: Image.Image, quality: int, extra: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    options = {k: v for k, v in extra.items() if v}
    image.save(out, "JPEG", quality=quality, optimize=True, subsampling="4:2:0" if quality < 90 else "4:4:4",
               **options)
    return out.getvalue()


# EXIF Orientation → the turn that makes the stored pixels upright (as ImageOps.exif_transpose).
_TURN = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
         8: Image.Transpose.ROTATE_90}


def _upright(pixels: Image.Image, orientation: object) -> Image.Image:
    turn = _TURN.get(orientation) if isinstance(orientation, int) else None
    return pixels.transpose(turn) if turn is not None else pixels


def _rgb(im: Image.Image) -> Image.Image:
    """JPEG holds 8-bit RGB (or grey): HDR and alpha are flattened, as a viewer shows them."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _xmp(raw: Optional[Any]) -> Optional[bytes]:
    if not raw:
        return None
    return raw if isinstance(raw, bytes) else str(raw).encode("utf-8")


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text if len(text) <= 120 else text[:117] + "..."


def to_mp4(src: "str | os.PathLike[str]", dest: "str | os.PathLike[str]", *,
           creation_time: Optional[str] = None) -> Converted:
    """`src` (MPEG-TS from a camcorder or NVR, or a raw H.264/HEVC stream) remuxed into MP4
    without re-encoding: every packet copied as it is, as `ffmpeg -c copy` does (libavformat
    adds what MP4 needs itself: AVC/HEVC parameter sets out of band, AAC without ADTS
    headers). `creation_time` (ISO, UTC) goes into the MP4: MPEG-TS has no place for it."""
    import av  # PyAV, as the prober uses it

    tmp = f"{os.fspath(dest)}.part"
    width = height = 0
    try:
        with av.open(os.fspath(src)) as source, av.open(tmp, "w", format="mp4") as out:
            if creation_time:
                out.metadata["creation_time"] = creation_time
            mapping = {s.index: out.add_stream_from_template(s) for s in source.streams
                       if s.type in ("video", "audio")}
            video = next((s for s in source.streams.video if s.index in mapping), None)
            if video is None:
                raise ConversionError("no video stream to put in an MP4")
            width, height = video.codec_context.width, video.codec_context.height
            _copy_packets(source, mapping)
    except (av.FFmpegError, ValueError) as exc:
        _remove(tmp)
        raise ConversionError(f"the video could not be rewritten as MP4 ({_why(exc)})") from None
    except BaseException:
        _remove(tmp)
        raise
    os.replace(tmp, dest)
    return Converted(os.fspath(dest), os.path.getsize(dest), sha256_file(dest), width, height, 0, 1.0,
                     ("remuxed into MP4 without re-encoding",))


def _copy_packets(source: Any, mapping: dict[int, Any]) -> None:
    """Every packet into the output; a raw elementary stream's packets carry no timestamps,
    so they are given them (90 kHz clock, as MPEG's), each frame as long as the stream's own
    timing says (container.frame_seconds: what the probe measured its length with; FFmpeg's
    default 25 fps made a 30 fps camera's clip play slow)."""
    from fractions import Fraction

    from mavi_sync.media.container import frame_seconds

    clock: dict[int, float] = {}
    for packet in source.demux(*[source.streams[i] for i in mapping]):
        if packet.size == 0:
            continue
        stream = source.streams[packet.stream.index]
        if packet.pts is None and packet.dts is None:
            start, length = clock.get(stream.index, 0.0), frame_seconds(packet, stream)
            clock[stream.index] = start + length
            packet.time_base = Fraction(1, 90000)
            packet.pts = packet.dts = round(start * 90000)
            packet.duration = round(length * 90000)
        packet.stream = mapping[stream.index]
        mapping[stream.index].container.mux(packet)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


TRANSCODE_PRESET, TRANSCODE_CRF = "veryfast", "23"  # bench/convert.py gives ffmpeg the same


def to_h264(src: "str | os.PathLike[str]", dest: "str | os.PathLike[str]", *, creation_time: Optional[str] = None,
            progress: Optional[str] = None) -> Converted:
    """`src` re-encoded as H.264 (libx264, TRANSCODE_PRESET, CRF TRANSCODE_CRF) with AAC sound,
    in MP4: for codecs no video endpoint takes (MJPEG from trail and older cameras, MPEG-4
    Part 2). CPU-heavy: the daemon runs it in a helper of its own, niced, one at a time.
    `progress`: a file rewritten about every second with how far it got (status shows it)."""
    import av

    tmp = f"{os.fspath(dest)}.part"
    try:
        with av.open(os.fspath(src)) as source, av.open(tmp, "w", format="mp4") as out:
            if creation_time:
                out.metadata["creation_time"] = creation_time
            frames = _transcode(source, out, progress)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        _remove(tmp)
        raise ConversionError(f"the video could not be re-encoded as H.264 ({_why(exc)})") from None
    except BaseException:
        _remove(tmp)
        raise
    finally:
        if progress:
            _remove(progress)
    os.replace(tmp, dest)
    with av.open(os.fspath(dest)) as made:
        width, height = made.streams.video[0].codec_context.width, made.streams.video[0].codec_context.height
    return Converted(os.fspath(dest), os.path.getsize(dest), sha256_file(dest), width, height, 0, 1.0,
                     (f"re-encoded as H.264 ({frames} frames, libx264 {TRANSCODE_PRESET}, CRF {TRANSCODE_CRF})",))


def _transcode(source: Any, out: Any, progress: Optional[str]) -> int:
    import json
    import time

    import av

    vin = source.streams.video[0]
    vin.thread_type = "AUTO"  # decode on every core too, as the ffmpeg CLI does (x264 threads by itself)
    ain = source.streams.audio[0] if source.streams.audio else None
    vout = out.add_stream("libx264", rate=vin.average_rate or vin.guessed_rate or 25)
    vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
    vout.options = {"preset": TRANSCODE_PRESET, "crf": TRANSCODE_CRF}
    aout = resampler = None
    if ain is not None:
        aout = out.add_stream("aac", rate=ain.codec_context.sample_rate or 48000)
        resampler = av.AudioResampler(format="fltp", layout=ain.codec_context.layout or "stereo",
                                      rate=aout.codec_context.sample_rate)
    total = float(source.duration / av.time_base) if source.duration else 0.0
    frames, reported = 0, 0.0
    for packet in source.demux(*[s for s in (vin, ain) if s is not None]):
        for frame in packet.decode():
            if packet.stream.type == "video":
                frame = frame if frame.format.name == "yuv420p" else frame.reformat(format="yuv420p")
                frame.pts = None  # the encoder numbers them: camera video is constant-rate
                out.mux(vout.encode(frame))
                frames += 1
                if progress and time.monotonic() - reported >= 1.0:
                    reported = time.monotonic()
                    done = float(frames / (vin.average_rate or 25))
                    with open(progress, "w", encoding="utf-8") as fh:
                        json.dump({"done_s": round(done, 1), "total_s": round(total, 1)}, fh)
            elif resampler is not None and aout is not None:
                for resampled in resampler.resample(frame):
                    resampled.pts = None
                    out.mux(aout.encode(resampled))
    out.mux(vout.encode(None))
    if aout is not None:
        out.mux(aout.encode(None))
    return frames


def clip_out(src: "str | os.PathLike[str]", dest: "str | os.PathLike[str]", *, offset: int, size: int) -> Converted:
    """A motion photo's clip (media/motion.py) as a file of its own: its bytes as they are."""
    from mavi_sync.media.motion import Clip, extract, mp4_end

    with open(src, "rb") as fh:
        fh.seek(offset)
        head = fh.read(min(size, 1 << 16))
    if not head[4:8] == b"ftyp" or size <= 0:
        raise ConversionError("the motion photo's clip is not where the photo says")
    try:
        extract(os.fspath(src), os.fspath(dest), Clip(offset, size))
    except OSError as exc:
        raise ConversionError(f"the motion photo's clip cannot be read ({exc.strerror or exc})") from None
    with open(dest, "rb") as fh:
        if mp4_end(fh.read(), 0) is None:
            _remove(os.fspath(dest))
            raise ConversionError("the motion photo's clip is not a whole MP4")
    return Converted(os.fspath(dest), size, sha256_file(dest), 0, 0, 0, 1.0, ("the motion photo's own clip",))
