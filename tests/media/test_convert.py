"""Photos no endpoint takes, made JPEGs that say what the original says: generated HEIC and
AVIF files with every kind of metadata (pillow-heif and Pillow write them), the corpus's
real phone and camera files where present, the size limit, and files that cannot be made."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps

from mavi_sync.dev.samples import ImageSpec, write_image
from mavi_sync.errors import ConversionError
from mavi_sync.media.convert import to_jpeg
from mavi_sync.media.probe import probe
from tests.conftest import corpus_rows

P3ISH = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # any profile that is not sRGB
FULL = ImageSpec(make="Apple", model="iPhone 15 Pro", taken="2023:10:31 11:44:43", subsec="432", offset="+01:00",
                 gps=(52.4596, 13.3218), orientation=6, keywords=["beach", "sunset"], size=(240, 160),
                 icc=P3ISH, mark=True)


def shown(path: Path) -> Image.Image:
    """The picture as a viewer that honours EXIF Orientation shows it (HEIF: as decoded)."""
    import pillow_heif
    pillow_heif.register_heif_opener()
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im.convert("RGB"))


def same_picture(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    small = (32, 32)
    diff = ImageChops.difference(a.resize(small), b.resize(small)).getextrema()
    return max(hi for _lo, hi in diff) < 40  # lossy on both sides; a turned picture differs by ~255


@pytest.mark.parametrize("ext", [".heic", ".avif"])
def test_the_jpeg_keeps_time_camera_gps_keywords_icc_and_shows_the_same_way_up(tmp_path: Path, ext: str) -> None:
    original = write_image(tmp_path / f"IMG_0001{ext}", FULL)
    made = to_jpeg(original, tmp_path / "out.jpg", quality=90)
    before, after = probe(original), probe(made.path)
    assert after.kind is not None and after.kind.format == "jpeg" and after.refusal is None
    assert after.taken == before.taken and after.taken is not None and after.taken.when.microsecond == 432000
    assert after.taken.when.utcoffset() is not None  # the offset came along
    assert (after.make, after.model, after.position, after.keywords) == \
        (before.make, before.model, before.position, before.keywords)
    with Image.open(made.path) as jpeg:
        assert jpeg.info.get("icc_profile") == P3ISH
        assert jpeg.getexif().get(0x0112) == 1
    assert same_picture(shown(Path(made.path)), shown(original))  # the PhotoPrism bug would turn it twice
    assert made.sha256 == hashlib.sha256(Path(made.path).read_bytes()).hexdigest()
    assert (made.quality, made.scale, made.notes) == (90, 1.0, ())


def test_over_the_limit_the_quality_drops_first_then_the_size(tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.heic"
    Image.effect_noise((800, 600), 90).convert("RGB").save(noisy.with_suffix(".png"))
    import pillow_heif
    pillow_heif.register_heif_opener()
    with Image.open(noisy.with_suffix(".png")) as png:
        png.save(noisy, quality=95)
    full = to_jpeg(noisy, tmp_path / "full.jpg", quality=95, max_bytes=10**9)
    lower = to_jpeg(noisy, tmp_path / "lower.jpg", quality=95, max_bytes=int(full.size * 0.7))
    assert lower.size <= full.size * 0.7 and lower.quality < 95 and lower.scale == 1.0
    assert "quality lowered from 95" in lower.notes[0]
    tiny = to_jpeg(noisy, tmp_path / "tiny.jpg", quality=95, max_bytes=40_000)
    assert tiny.size <= 40_000 and tiny.quality == 60 and tiny.scale < 1.0 and "scaled to" in tiny.notes[-1]
    with Image.open(tiny.path) as small:
        assert small.size == (tiny.width, tiny.height)


def test_a_photo_that_cannot_be_decoded_is_a_conversion_error_with_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.heic"
    bad.write_bytes(b"\0\0\0\x18ftypheic" + b"\0" * 200)
    with pytest.raises(ConversionError, match="could not be decoded for conversion to JPEG"):
        to_jpeg(bad, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists() and not (tmp_path / "out.jpg.part").exists()


PHOTOS = [r for r in corpus_rows() if r["category"] in ("images/heic", "images/other")
          and r["file"].lower().endswith((".heic", ".avif", ".tif"))]


@pytest.mark.parametrize("row", PHOTOS, ids=[r["file"] for r in PHOTOS])
def test_real_phone_and_camera_photos(corpus: Path, tmp_path: Path, row: dict[str, str]) -> None:
    """iPhones (one with its EXIF at the end of the file, one turned), Samsung, Xiaomi, a
    Canon AVIF and TIFF: exiftool's reading of the original (MANIFEST.tsv) is the JPEG's."""
    original = corpus / row["file"]
    made = to_jpeg(original, tmp_path / "out.jpg")
    after = probe(made.path)
    assert after.refusal is None and after.taken is not None
    assert after.taken.when.strftime("%Y:%m:%d %H:%M:%S") == row["datetime_original"][:19]
    if row["subsec"]:
        assert after.taken.when.microsecond == int(row["subsec"].ljust(6, "0")[:6])
    if row["offset_original"]:
        offset = after.taken.when.strftime("%z")
        assert f"{offset[:3]}:{offset[3:]}" == row["offset_original"]
    assert after.model is not None and row["model"] in after.model
    if row["gps_lat"]:
        assert after.position is not None and abs(after.position[0] - float(row["gps_lat"])) < 1e-5
    with Image.open(original) as im:
        icc = im.info.get("icc_profile")
    with Image.open(made.path) as jpeg:
        assert (jpeg.info.get("icc_profile") or None) == (icc or None)
    assert same_picture(shown(Path(made.path)), shown(original))


@pytest.mark.parametrize("ext", [".ts", ".h264"])
def test_a_camera_stream_is_remuxed_into_mp4_without_re_encoding(tmp_path: Path, ext: str) -> None:
    """MPEG-TS (camcorders, NVRs) and raw H.264 (IP cameras' dumps): the same H.264 packets
    in an MP4 the video endpoints take, with the capture time MPEG-TS had no place for."""
    import av

    from mavi_sync.dev.samples import VideoSpec, write_video
    from mavi_sync.media.convert import to_mp4
    source = write_video(tmp_path / f"clip{ext}", VideoSpec(seconds=2, fps=10))
    made = to_mp4(source, tmp_path / "out.mp4", creation_time="2024-05-01T08:00:00.000000Z")
    info = probe(made.path)
    assert info.kind is not None and info.kind.format == "mp4" and info.video_codec == "h264"
    assert info.taken is not None and info.taken.when.isoformat() == "2024-05-01T08:00:00+00:00"
    assert info.duration_s is not None and abs(info.duration_s - 2.0) < 0.3
    with av.open(str(source)) as a, av.open(made.path) as b:  # not re-encoded: the same coded frames
        frames_a = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size]
        frames_b = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]
    assert len(frames_a) == len(frames_b) == 20
    assert [len(f) for f in frames_a[1:]] == [len(f) for f in frames_b[1:]]  # (the first: parameter sets moved out)


CLIPS = [r for r in corpus_rows() if r["file"].lower().endswith((".mts", ".h264"))]


@pytest.mark.parametrize("row", CLIPS, ids=[r["file"] for r in CLIPS])
def test_real_camcorder_and_ip_camera_streams_are_remuxed(corpus: Path, tmp_path: Path, row: dict[str, str]) -> None:
    from mavi_sync.media.convert import to_mp4
    original = probe(corpus / row["file"])
    made = probe(to_mp4(corpus / row["file"], tmp_path / "out.mp4").path)
    assert made.refusal is None and made.kind is not None and made.kind.format == "mp4"
    assert (made.video_codec, made.audio_codec, made.width, made.height) == \
        (original.video_codec, original.audio_codec, original.width, original.height)


def test_a_codec_the_endpoint_refuses_is_re_encoded_as_h264_with_its_sound(tmp_path: Path) -> None:
    """MPEG-4 Part 2 in AVI (old compacts, trail cameras): H.264 + AAC in MP4, the same
    length, the capture time written in, and the progress file gone once done."""
    from mavi_sync.dev.samples import VideoSpec, write_video
    from mavi_sync.media.convert import to_h264
    source = write_video(tmp_path / "MVI_0001.AVI", VideoSpec(codec="mpeg4", seconds=2, audio=True))
    made = to_h264(source, tmp_path / "out.mp4", creation_time="2012-09-10T18:52:00.000000Z",
                   progress=str(tmp_path / "out.mp4.progress"))
    info = probe(made.path)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac") and info.kind is not None
    assert info.duration_s is not None and abs(info.duration_s - 2.0) < 0.3
    assert info.taken is not None and info.taken.when.isoformat() == "2012-09-10T18:52:00+00:00"
    assert "re-encoded as H.264" in made.notes[0] and not (tmp_path / "out.mp4.progress").exists()


def test_a_transcode_reports_how_far_it_got_for_status(tmp_path: Path) -> None:
    from mavi_sync.media.model import Converted
    from mavi_sync.pipeline.staging import Staging
    seen: list[str] = []

    def slow(src: str, dest: str, to: str, options: dict) -> Converted:  # type: ignore[type-arg]
        Path(options["progress"]).write_text('{"done_s": 90, "total_s": 180}')
        seen.append(staging.progress() or "")
        return Converted(dest, 0, "", 0, 0, 0, 1.0)

    staging = Staging(tmp_path / "staging", 10**9, slow)
    staging.to_h264(tmp_path / "x.avi", "a" * 64, 1000, None)
    assert seen == ["transcoding: 50% of 3 min"]


MJPEG = [r for r in corpus_rows() if r["category"] == "video" and r["file"].lower().endswith(".avi")]


@pytest.mark.parametrize("row", MJPEG, ids=[r["file"] for r in MJPEG])
def test_a_real_mjpeg_clip_is_re_encoded(corpus: Path, tmp_path: Path, row: dict[str, str]) -> None:
    from mavi_sync.media.convert import to_h264
    original = probe(corpus / row["file"])
    made = probe(to_h264(corpus / row["file"], tmp_path / "out.mp4").path)
    assert made.video_codec == "h264" and (made.width, made.height) == (original.width, original.height)
    assert made.duration_s is not None and original.duration_s is not None
    assert abs(made.duration_s - original.duration_s) < 0.2



def _security_takes_it_remuxed(source: Path, seconds: float, tmp_path: Path) -> None:
    """docs/guides/camera-folder.md, "Camera video in MPEG-TS": raw dumps go to video and
    security remuxed. The security endpoint takes up to 2 hours, so the length of a stream
    with no container is measured (its frames, at its own timing), the same way the remux
    times it into the MP4."""
    from mavi_sync.config.parse import build_config
    from mavi_sync.media.convert import to_mp4
    from mavi_sync.pipeline.plan import plan_file
    folder = build_config({"folders": [{"path": str(tmp_path), "target": "security"}]}).folders[0]
    plan = plan_file(source, folder)
    assert plan.chosen.target == "security" and plan.chosen.accepted, plan.chosen.reason
    assert plan.chosen.convert == "mp4" and plan.targets["video"].verdict.convert == "mp4"
    assert plan.info.duration_s is not None and abs(plan.info.duration_s - seconds) < 0.01, plan.info
    made = probe(to_mp4(source, tmp_path / "out.mp4").path)
    assert made.duration_s is not None and abs(made.duration_s - seconds) < 0.15, made.duration_s


def test_a_raw_h264_stream_goes_to_the_security_target_remuxed(tmp_path: Path) -> None:
    from mavi_sync.dev.samples import VideoSpec, write_video
    _security_takes_it_remuxed(write_video(tmp_path / "cam.h264", VideoSpec(seconds=2, fps=10)), 2.0, tmp_path)


def test_the_axis_cameras_raw_dump_goes_to_the_security_target_remuxed(corpus: Path, tmp_path: Path) -> None:
    """Refused before ("duration unknown") while the video target took it. 50 frames at the
    30 fps its SPS says (the remux used to time them at FFmpeg's default 25)."""
    _security_takes_it_remuxed(corpus / "video/axis-ipcam_raw-annexb.h264", 50 / 30, tmp_path)
