"""What each memories.ai endpoint accepts (../shared/api/README.md), as pure checks.

`check(info, target)` returns a Verdict with every reason a person needs to
understand a refusal; nothing here touches the disk or the network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from mavi_sync.media.model import MediaInfo
from mavi_sync.media.sniff import kind_by_name

MB = 1000 * 1000
GB = 1000 * MB


@dataclass(frozen=True)
class Limits:
    target: str
    family: tuple[str, ...]
    formats: tuple[str, ...]
    max_bytes: int
    codecs: Optional[tuple[str, ...]] = None
    max_duration_s: Optional[float] = None
    max_tags: int = 0
    direct_max_bytes: Optional[int] = None  # above this, the signed-URL flow (asset)
    describe: str = ""


LIMITS: dict[str, Limits] = {
    "video": Limits("video", ("video",), ("mp4", "mov", "matroska", "avi"), 3 * GB,
                    codecs=("h264", "hevc", "vp9"), max_tags=20,
                    describe="MP4, MOV, MKV or AVI with H.264, HEVC or VP9 video, up to 3 GB"),
    "image": Limits("image", ("image",), ("jpeg", "png", "gif", "bmp", "webp"), 20 * MB, max_tags=50,
                    describe="JPEG, PNG, GIF, BMP or WebP, up to 20 MB"),
    "security": Limits("security", ("video",), ("mp4", "mov", "matroska", "webm", "avi"), 8 * GB,
                       max_duration_s=2 * 3600.0,
                       describe="a video (MP4, MOV, MKV, WebM, AVI) up to 8 GB and 2 hours"),
    "asset": Limits("asset", ("video", "audio", "image"),
                    ("mp4", "mov", "avi", "webm", "matroska", "flv", "asf", "mpeg",
                     "mp3", "wav", "aac", "flac", "ogg", "m4a",
                     "jpeg", "png", "gif", "webp", "bmp", "tiff"),
                    5 * GB, direct_max_bytes=500 * MB,
                    describe="video MP4/MOV/AVI/WebM/MKV/FLV/WMV/MPEG, audio MP3/WAV/AAC/FLAC/OGG/M4A, "
                             "image JPEG/PNG/GIF/WebP/BMP/TIFF; up to 5 GB"),
}

# Containers no endpoint takes whose streams the video endpoints do: camcorders' and NVRs'
# MPEG-TS (.mts, .m2ts, .ts) and raw elementary streams. They are rewritten into MP4 without
# re-encoding (media/convert.py `to_mp4`): seconds of I/O, no CPU to speak of.
REMUXED = ("mpegts", "h264")
# Video codecs the video endpoint refuses that cameras still write, re-encoded as H.264 when
# the folder says `transcode = true` (media/convert.py `to_h264`).
TRANSCODED = ("mjpeg", "mpeg4", "msmpeg4v2", "msmpeg4v3", "h263", "mpeg2video", "mpeg1video", "wmv3", "vc1", "vp8",
              "dvvideo", "theora")
REMUX_CODECS = ("h264", "hevc")
REMUX_TARGETS = ("video", "security")
MP4 = kind_by_name("mp4")

# For `target = "auto"`: the preferred target per media family, then the fallbacks.
AUTO_ORDER = {"image": ("image", "asset"), "video": ("video", "asset"), "audio": ("asset",)}


@dataclass(frozen=True)
class Verdict:
    target: str
    accepted: bool
    reasons: tuple[str, ...] = ()
    method: str = "direct"  # "signed" for assets above the direct-upload limit
    # What is sent is made from the file: "jpeg", "mp4" (remuxed), "h264" (re-encoded) in
    # media/convert.py; "clip", a motion photo's own MP4 (media/motion.py).
    convert: Optional[str] = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _size(n: int) -> str:
    return f"{n / GB:.2f} GB" if n >= GB else f"{n / MB:.1f} MB"


def check(info: MediaInfo, target: str, max_bytes: Optional[int] = None,
          to_jpeg: tuple[str, ...] = (), transcode: bool = False, motion_clip: bool = False) -> Verdict:
    """Would `target` take this file? `max_bytes` is a folder's own, lower size cap;
    `to_jpeg`, the photo formats the folder has converted to JPEG for the image target;
    `transcode`, whether the folder has refused video codecs re-encoded as H.264;
    `motion_clip`, whether a motion photo's clip is what the video targets are sent."""
    limits = LIMITS[target]
    if info.refusal:
        return Verdict(target, False, (info.refusal,))
    assert info.kind is not None  # a MediaInfo without refusal always has a kind
    if motion_clip and target in REMUX_TARGETS and info.motion_size:
        clip = dataclasses.replace(info, kind=MP4, size=info.motion_size, video_codec=info.motion_codec,
                                   duration_s=info.motion_duration_s)
        made = check(clip, target, max_bytes)  # what is sent: the clip's own bytes, an MP4
        return dataclasses.replace(made, convert="clip") if made.accepted else made
    if transcode and target == "video" and info.video_codec in TRANSCODED:
        made = check(dataclasses.replace(info, kind=MP4, video_codec="h264"), target, max_bytes)
        return dataclasses.replace(made, convert="h264") if made.accepted else made
    if target in REMUX_TARGETS and info.kind.format in REMUXED and info.video_codec in REMUX_CODECS:
        remuxed = check(dataclasses.replace(info, kind=MP4), target, max_bytes)  # what is sent: an MP4
        return dataclasses.replace(remuxed, convert="mp4") if remuxed.accepted else remuxed
    if target == "image" and info.kind.format in to_jpeg:
        # The JPEG is made to fit the endpoint's limit (lower quality, then smaller); only
        # the folder's own cap applies to the original.
        if max_bytes and info.size > max_bytes:
            return Verdict(target, False, (f"{_size(info.size)} is over this folder's max_size_mb ({_size(max_bytes)})",))
        return Verdict(target, True, convert="jpeg")
    reasons = []
    fmt = info.kind.format.upper()
    if info.kind.family not in limits.family:
        reasons.append(f"{info.kind.family} files are not accepted here (takes {limits.describe})")
    elif info.kind.format not in limits.formats:
        reasons.append(f"{fmt} is not accepted (takes {limits.describe})" + _convert_hint(info, target))
    if limits.codecs is not None and info.kind.family == "video":
        if info.video_codec is None:
            reasons.append("no video stream")
        elif info.video_codec not in limits.codecs:
            hint = "; transcode = true in the folder re-encodes it as H.264" if info.video_codec in TRANSCODED else ""
            reasons.append(f"video codec {info.video_codec} is not accepted (takes {', '.join(limits.codecs)}){hint}")
    if info.size > limits.max_bytes:
        reasons.append(f"{_size(info.size)} is over the {_size(limits.max_bytes)} limit")
    if max_bytes and info.size > max_bytes:
        reasons.append(f"{_size(info.size)} is over this folder's max_size_mb ({_size(max_bytes)})")
    if limits.max_duration_s is not None and info.kind.family == "video":
        if info.duration_s is None:
            reasons.append("duration unknown (the container does not say and it could not be measured)")
        elif info.duration_s > limits.max_duration_s:
            reasons.append(f"{info.duration_s / 3600:.2f} h is over the {limits.max_duration_s / 3600:g} h limit")
    method = "signed" if limits.direct_max_bytes and info.size > limits.direct_max_bytes else "direct"
    return Verdict(target, not reasons, tuple(reasons), method)


def _convert_hint(info: MediaInfo, target: str) -> str:
    if target == "image" and info.kind is not None and info.kind.format in ("heif", "avif", "tiff"):
        return f'; to_jpeg = ["{info.kind.format}"] in the folder converts it'
    return ""


def choose_target(info: MediaInfo, folder_target: str, max_bytes: Optional[int] = None,
                  to_jpeg: tuple[str, ...] = (), transcode: bool = False, motion_clip: bool = False) -> Verdict:
    """The verdict for the folder's target; for `auto`, the first target in AUTO_ORDER that
    accepts the file, else the preferred target's refusal. A motion photo whose clip is
    wanted (`motion_clip`) goes to the video endpoint, else its still as any photo."""
    if folder_target != "auto":
        return check(info, folder_target, max_bytes, to_jpeg, transcode, motion_clip)
    order = AUTO_ORDER.get(info.family or "", ("asset",))
    if motion_clip and info.motion_size:
        order = ("video", *order)
    verdicts = [check(info, target, max_bytes, to_jpeg, transcode, motion_clip) for target in order]
    return next((v for v in verdicts if v.accepted), verdicts[0])
