"""Audio/video metadata through PyAV (FFmpeg bundled in the wheel, no system binary).

Reads the container's tags (QuickTime keys, Android `©xyz`, Matroska, AVI IDIT),
the codecs and the duration, and decodes the first frame so that a file whose
data is broken is refused before it costs an upload.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any, Optional

import av
import av.logging

from mavi_sync.media import gpmf, mdpm
from mavi_sync.media.model import MediaInfo, Taken
from mavi_sync.media.sniff import Kind
from mavi_sync.media.values import clean_text, parse_datetime, parse_iso6709, parse_offset, valid_position

# FFmpeg logs to stderr by default; its complaints about broken files become refusals here.
av.logging.set_level(None)

# Bounds on how much FFmpeg may read to identify streams, so a hostile file can't stall us.
_OPEN_OPTIONS = {"probesize": str(32 << 20), "analyzeduration": str(30_000_000)}
_MAX_DEMUX_PACKETS = 200_000  # for containers without a duration (e.g. browser WebM)
_MAX_RAW_FRAMES = 1_000_000  # a raw stream is measured by its frames: 9 h at 30 fps, 2 h at 120
RAW = ("h264",)  # elementary streams with no container: no duration, no timestamps
_MAX_DECODE_PACKETS = 300  # to reach the first decodable frame
_LOCATION_KEYS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
_MAKE_KEYS = ("com.apple.quicktime.make", "make", "com.android.manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model")
_KEYWORD_KEYS = ("com.apple.quicktime.keywords", "keywords")
_MDPM_PACKETS = 4  # AVCHD repeats its MDPM with every GOP; the first ones carry it


def read_container(path: str, size: int, kind: Kind) -> MediaInfo:
    """Probe an audio/video file. FFmpeg errors (av.FFmpegError) propagate to `probe`."""
    notes: list[str] = []
    with av.open(path, options=_OPEN_OPTIONS, metadata_errors="replace") as container:
        tags = {k.lower(): v for k, v in container.metadata.items()}
        video = next((s for s in container.streams.video if s.codec_context is not None), None)
        audio = next((s for s in container.streams.audio if s.codec_context is not None), None)
        if video is None and audio is None:
            return MediaInfo(path=path, size=size, kind=kind, refusal="no audio or video stream found in the container")
        # AVCHD keeps its time and camera in the H.264 stream (mdpm.py): the first packets,
        # which the decode check reads anyway, are kept for it (Annex B streams only).
        first: Optional[list[bytes]] = [] if video is not None and kind.format in ("mpegts", "h264") \
            and video.codec_context.name == "h264" else None
        refusal = _decode_check(container, video or audio, first)
        # Demuxing to the end for a missing duration comes last: raw streams can't seek back.
        duration = _duration(container) or (_demux_duration(container) if refusal is None else None)
        if duration is None and refusal is None and kind.format in RAW:
            duration = _raw_duration(path)
        avchd = mdpm.read(first) if first else None
        info = MediaInfo(
            path=path, size=size, kind=kind, refusal=refusal,
            width=video.codec_context.width if video else None,
            height=video.codec_context.height if video else None,
            duration_s=duration,
            video_codec=video.codec_context.name if video else None,
            audio_codec=audio.codec_context.name if audio else None,
            taken=_taken(tags, kind) or _mdpm_taken(avchd),
            make=_first(tags, _MAKE_KEYS) or (avchd.make if avchd else None),
            model=_first(tags, _MODEL_KEYS) or (avchd.model if avchd else None) or _gopro(path, kind, tags),
            position=_position(tags, notes), keywords=_keywords(tags), notes=tuple(notes),
            content_id=clean_text(tags.get("com.apple.quicktime.content.identifier")),
        )
    return info


def _first(tags: dict[str, str], keys: tuple[str, ...]) -> Optional[str]:
    for key in keys:
        value = clean_text(tags.get(key))
        if value:
            return value
    return None


def _duration(container: Any) -> Optional[float]:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    spans = [float(s.duration * s.time_base) for s in container.streams
             if s.duration and s.time_base and s.type in ("video", "audio")]
    return max(spans) if spans else None


def _demux_duration(container: Any) -> Optional[float]:
    """Last timestamp seen when reading packets (no decoding), bounded in count."""
    end = None
    try:
        for i, packet in enumerate(container.demux()):
            if i >= _MAX_DEMUX_PACKETS:
                break
            if packet.pts is not None and packet.time_base:
                stamp = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                end = stamp if end is None else max(end, stamp)
    except av.FFmpegError:
        pass
    return end


def frame_seconds(packet: Any, stream: Any) -> float:
    """How long a frame of a stream without timestamps (a raw H.264 dump) lasts: what the
    parser read from the stream's own timing (the SPS), else the rate FFmpeg assumes for it.
    The probe measures a raw stream with it and the remux (convert.py) times the MP4 with
    it, so that the length the security target's 2-hour limit is checked against is the
    length of what is sent."""
    if packet.duration and packet.time_base:
        return float(packet.duration * packet.time_base)
    return 1.0 / float(stream.average_rate or stream.guessed_rate or 25)


def _raw_duration(path: str) -> Optional[float]:
    """A raw stream's length: its frames' (demuxed to the end on a fresh open, not decoded:
    the read the remux makes anyway); None past the bound, or when FFmpeg gives up on it."""
    total = 0.0
    try:
        with av.open(path, options=_OPEN_OPTIONS) as container:
            stream = container.streams.video[0]
            for i, packet in enumerate(container.demux(stream)):
                if i >= _MAX_RAW_FRAMES:
                    return None
                if packet.size:
                    total += frame_seconds(packet, stream)
    except (av.FFmpegError, IndexError):
        return None
    return total or None


def _gopro(path: str, kind: Kind, tags: dict[str, str]) -> Optional[str]:
    """A GoPro's model from its GPMF (gpmf.py), for MP4s whose `firmware` tag is a GoPro's
    (HERO and MAX firmware names start with H)."""
    firmware = tags.get("firmware", "")
    if kind.format not in ("mp4", "mov") or not firmware[:1] == "H":
        return None
    return gpmf.gopro_model(path)


def _mdpm_taken(avchd: Optional[mdpm.Mdpm]) -> Optional[Taken]:
    return Taken(avchd.taken, "avchd") if avchd is not None and avchd.taken is not None else None


def _decode_check(container: Any, stream: Any, first: Optional[list[bytes]] = None) -> Optional[str]:
    """None when a first frame decodes; a reason otherwise. The packets read go to `first`
    (a few), when given."""
    try:
        for i, packet in enumerate(container.demux(stream)):
            if i >= _MAX_DECODE_PACKETS:
                break
            if first is not None and len(first) < _MDPM_PACKETS:
                first.append(bytes(packet))
            for _frame in packet.decode():
                return None
        # Some decoders hold frames back until flushed.
        for _frame in stream.codec_context.decode(None):
            return None
    except av.error.EOFError:
        pass
    except av.FFmpegError as exc:
        return f"{stream.type} data cannot be decoded ({_ffmpeg_reason(exc)})"
    return f"no decodable {stream.type} frame found (the file may be cut short)"


def _ffmpeg_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or exc.__class__.__name__


def _taken(tags: dict[str, str], kind: Kind) -> Optional[Taken]:
    # Apple's CreationDate carries the local offset: it is what the camera showed.
    apple = parse_datetime(tags.get("com.apple.quicktime.creationdate"))
    if apple is not None:
        return Taken(apple, "quicktime")
    created = parse_datetime(tags.get("creation_time") or tags.get("date"))
    if created is None:
        return None
    if kind.format == "avi":
        # AVI's IDIT date is the camera's local wall clock, with no zone.
        return Taken(created.replace(tzinfo=None), "container")
    if created.tzinfo is None:  # QuickTime/Matroska creation times are UTC by spec
        created = created.replace(tzinfo=timezone.utc)
    samsung = parse_offset(tags.get("com.samsung.android.utc_offset"))
    if samsung is not None:
        return Taken(created.astimezone(timezone(samsung)), "container")
    return Taken(created.astimezone(timezone.utc), "container", utc_only=True)


def _position(tags: dict[str, str], notes: list[str]) -> Optional[tuple[float, float]]:
    for key in _LOCATION_KEYS:
        parsed = parse_iso6709(tags.get(key))
        if parsed is not None:
            position = valid_position(*parsed)
            if position is None:
                notes.append(f"location {parsed[0]}, {parsed[1]} is not a real position: not sent")
            return position
    return None


def _keywords(tags: dict[str, str]) -> tuple[str, ...]:
    raw = _first(tags, _KEYWORD_KEYS)
    return tuple(k.strip() for k in raw.split(",") if k.strip()) if raw else ()


