"""Per-target limits: who takes what, and the reason a person reads when not."""

from __future__ import annotations

from mavi_sync.media.model import MediaInfo
from mavi_sync.media.rules import GB, MB, check, choose_target
from mavi_sync.media.sniff import kind_by_name


def media(fmt: str, size: int = 1000, **kw) -> MediaInfo:
    return MediaInfo(path="x", size=size, kind=kind_by_name(fmt), **kw)


def test_video_target() -> None:
    assert check(media("mp4", video_codec="h264"), "video").accepted
    assert check(media("matroska", video_codec="vp9"), "video").accepted
    mjpeg = check(media("avi", video_codec="mjpeg"), "video")
    assert not mjpeg.accepted and "video codec mjpeg is not accepted" in mjpeg.reason
    big = check(media("mp4", size=3 * GB + 1, video_codec="h264"), "video")
    assert not big.accepted and "over the 3.00 GB limit" in big.reason
    assert "WEBM is not accepted" in check(media("webm", video_codec="vp9"), "video").reason
    assert "image files are not accepted" in check(media("jpeg"), "video").reason


def test_image_target() -> None:
    for fmt in ("jpeg", "png", "gif", "bmp", "webp"):
        assert check(media(fmt), "image").accepted
    assert "HEIF is not accepted" in check(media("heif"), "image").reason
    assert "over the 20.0 MB limit" in check(media("jpeg", size=20 * MB + 1), "image").reason


def test_security_duration_and_size() -> None:
    ok = media("mp4", video_codec="h264", duration_s=3600)
    assert check(ok, "security").accepted
    long = media("mp4", video_codec="h264", duration_s=2 * 3600 + 1)
    assert "over the 2 h limit" in check(long, "security").reason
    unknown = media("mp4", video_codec="h264")
    assert "duration unknown" in check(unknown, "security").reason
    assert "over the 8.00 GB limit" in check(media("mp4", size=8 * GB + 1, duration_s=5), "security").reason


def test_asset_direct_and_signed() -> None:
    assert check(media("mp4", size=500 * MB), "asset").method == "direct"
    signed = check(media("mp4", size=500 * MB + 1), "asset")
    assert signed.accepted and signed.method == "signed"
    assert not check(media("mp4", size=5 * GB + 1), "asset").accepted
    assert check(media("flac"), "asset").accepted and check(media("tiff"), "asset").accepted
    assert not check(media("mpegts"), "asset").accepted


def test_refusal_from_probe_wins() -> None:
    broken = MediaInfo(path="x", size=0, refusal="file is empty (0 bytes)")
    for target in ("video", "image", "security", "asset"):
        verdict = check(broken, target)
        assert not verdict.accepted and verdict.reason == "file is empty (0 bytes)"


def test_folder_size_cap() -> None:
    verdict = check(media("jpeg", size=2 * MB), "image", max_bytes=1 * MB)
    assert "this folder's max_size_mb" in verdict.reason


def test_auto_prefers_the_family_target_then_asset() -> None:
    assert choose_target(media("jpeg"), "auto").target == "image"
    assert choose_target(media("tiff"), "auto").target == "asset"
    assert choose_target(media("mp4", video_codec="h264"), "auto").target == "video"
    assert choose_target(media("avi", video_codec="mjpeg"), "auto").target == "asset"
    assert choose_target(media("mp3"), "auto").target == "asset"
    heic = choose_target(media("heif"), "auto")
    assert (heic.target, heic.accepted) == ("image", False)
    assert choose_target(media("jpeg"), "security").target == "security"


def test_a_raw_h264_stream_is_remuxed_for_video_and_security_within_their_limits() -> None:
    """A raw dump's length is measured by the probe (its frames); the security target's
    2-hour limit applies to it as to any clip, and an unmeasured one is still refused."""
    raw = media("h264", video_codec="h264", duration_s=90.0)
    for target in ("video", "security"):
        verdict = check(raw, target)
        assert verdict.accepted and verdict.convert == "mp4", (target, verdict)
    long = check(media("h264", video_codec="h264", duration_s=2 * 3600 + 1), "security")
    assert not long.accepted and "over the 2 h limit" in long.reason
    assert "duration unknown" in check(media("h264", video_codec="h264"), "security").reason
    assert check(media("h264", video_codec="h264"), "video").accepted  # the video target has no limit on it
