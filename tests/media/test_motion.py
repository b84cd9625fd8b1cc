"""Android motion photos found in their JPEG: each phone's layout, and no false finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from mavi_sync.dev.samples import MOTION_STYLES, ImageSpec, VideoSpec, write_image, write_motion_photo, write_video
from mavi_sync.media.motion import mp4_end
from mavi_sync.media.probe import probe


@pytest.mark.parametrize("style", MOTION_STYLES)
def test_each_phones_layout_is_found_with_its_clip(tmp_path: Path, style: str) -> None:
    path, movie = write_motion_photo(tmp_path / "PXL.MP.jpg", ImageSpec(make="Google"), style=style,
                                     clip=VideoSpec(seconds=2))
    info = probe(path)
    assert info.refusal is None and info.kind is not None and info.kind.format == "jpeg"
    assert info.motion_offset is not None and info.motion_size == len(movie)
    assert path.read_bytes()[info.motion_offset:info.motion_offset + info.motion_size] == movie
    assert info.motion_codec == "h264" and info.motion_duration_s == pytest.approx(2.0, abs=0.2)


def test_a_plain_jpeg_or_one_with_bytes_after_it_is_no_motion_photo(tmp_path: Path) -> None:
    plain = write_image(tmp_path / "plain.jpg", ImageSpec())
    assert probe(plain).motion_size is None
    tail = tmp_path / "tail.jpg"  # junk after the picture, as some editors leave
    tail.write_bytes(plain.read_bytes() + b"\x00" * 4000 + b"SEFT")
    assert probe(tail).motion_size is None and probe(tail).refusal is None


def test_an_xmp_that_promises_a_clip_it_lacks_sends_the_still(tmp_path: Path) -> None:
    path, movie = write_motion_photo(tmp_path / "cut.MP.jpg", ImageSpec())
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - len(movie)])  # the clip cut off (a partial copy)
    info = probe(path)
    assert info.refusal is None and info.motion_size is None


def test_mp4_end_walks_the_boxes_and_stops_at_a_trailer(tmp_path: Path) -> None:
    movie = write_video(tmp_path / "c.mp4", VideoSpec()).read_bytes()
    assert mp4_end(movie + b"SEFH\x00\x00\x00\x00SEFT", 0) == len(movie)
    assert mp4_end(b"xx" + movie, 2) == len(movie) + 2
    assert mp4_end(movie[:40], 0) is None  # no moov, no mdat
    assert mp4_end(b"\x00\x00\x00\x10moov" + movie, 0) is None  # must open with ftyp


@pytest.mark.parametrize("target,policy,sent_to,convert", [
    ("auto", "video", "video", "clip"), ("security", "video", "security", "clip"), ("auto", "still", "image", None),
    ("auto", "both", "image", None), ("image", "video", "image", None)])
def test_the_policy_and_the_target_choose_the_clip_or_the_still(tmp_path: Path, target: str, policy: str,
                                                                 sent_to: str, convert: str) -> None:
    from mavi_sync.config.schema import FolderConfig
    from mavi_sync.pipeline.plan import plan_file

    path, _ = write_motion_photo(tmp_path / "PXL.MP.jpg", ImageSpec(make="Google"))
    plan = plan_file(path, FolderConfig(path=tmp_path, target=target, live_photos=policy))
    assert plan.chosen.accepted and plan.chosen.target == sent_to and plan.chosen.convert == convert
    if convert:
        assert plan.targets[sent_to].filename == "PXL.MP.mp4" and plan.targets[sent_to].mime == "video/mp4"
