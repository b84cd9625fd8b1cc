"""Live Photo pairing, pure: which names can pair, the time window, what each policy sends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mavi_sync.dev.samples import apple_maker_note
from mavi_sync.media.pairs import (PAIR_WINDOW_S, Half, Pair, apple_content_id, find_pair, half, one_live_photo,
                                   partner_candidates, skipped_half, taken_together)

D = Path("/dcim/100APPLE")
T = datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone(timedelta(hours=2)))


def test_a_still_and_a_clip_with_the_same_base_name_can_pair_whatever_the_case_of_the_extension() -> None:
    names = ["IMG_0001.HEIC", "IMG_0001.MOV", "IMG_0001.mov.part", "IMG_00011.MOV", "IMG_0002.MOV", "IMG_0001.AAE"]
    assert partner_candidates(D / "IMG_0001.HEIC", names) == [D / "IMG_0001.MOV"]
    assert partner_candidates(D / "IMG_0001.MOV", names) == [D / "IMG_0001.HEIC"]
    assert partner_candidates(D / "IMG_0001.AAE", names) == [] and half(D / "x.png") is None
    assert partner_candidates(D / "IMG_0002.MOV", ["IMG_0002.MOV", "IMG_0002.jpg"]) == [D / "IMG_0002.jpg"]
    assert partner_candidates(D / "IMG_0003.jpg", ["IMG_0003.jpg", "IMG_0003.mp4"]) == []


def test_an_nvr_clip_and_its_snapshot_are_never_a_live_photo(tmp_path: Path) -> None:
    """`clip.mp4` + `clip.jpg` written together by a recorder: not a pair (not QuickTime),
    and a `.mov` + `.jpg` pair needs one of them to be Apple's."""
    assert partner_candidates(tmp_path / "clip.jpg", ["clip.jpg", "clip.mp4"]) == []
    (tmp_path / "clip.jpg").touch()
    (tmp_path / "clip.mov").touch()
    assert find_pair(tmp_path / "clip.jpg", Half(T, "Reolink"), lambda p: Half(T, None)) is None
    assert find_pair(tmp_path / "clip.jpg", Half(T, None), lambda p: Half(T, "Apple")) == \
        Pair(tmp_path / "clip.jpg", tmp_path / "clip.mov")


def test_only_halves_taken_together_pair() -> None:
    assert taken_together(T, T - timedelta(seconds=1.5))  # the clip starts before the shutter
    assert not taken_together(T, T + timedelta(seconds=PAIR_WINDOW_S + 0.1))
    assert not taken_together(T, None) and not taken_together(T, T.replace(tzinfo=None))


@pytest.mark.parametrize("policy,still_sent,motion_sent", [("still", True, False), ("both", True, True),
                                                          ("video", False, True)])
def test_each_policy_sends_its_halves(policy: str, still_sent: bool, motion_sent: bool) -> None:
    pair = Pair(D / "IMG_0001.HEIC", D / "IMG_0001.MOV")
    assert (skipped_half(policy, pair, pair.still) is None) is still_sent
    assert (skipped_half(policy, pair, pair.motion) is None) is motion_sent


def test_both_halves_carry_the_same_tag() -> None:
    assert Pair(D / "IMG_0001.HEIC", D / "IMG_0001.MOV").tag == Pair(D / "IMG_0001.heic", D / "IMG_0001.mov").tag
    assert Pair(D / "IMG_0001.HEIC", D / "IMG_0001.MOV").tag != Pair(D / "IMG_0002.HEIC", D / "IMG_0002.MOV").tag


def test_apples_content_identifier_decides_when_both_halves_carry_one() -> None:
    later = T + timedelta(seconds=30)  # a clock that drifted, a clip trimmed on the phone
    assert one_live_photo(Half(T, "Apple", "A-1"), Half(later, None, "A-1"))
    assert not one_live_photo(Half(T, "Apple", "A-1"), Half(T, "Apple", "B-2"))  # two shots in the same second
    assert one_live_photo(Half(T, "Apple", "A-1"), Half(T, "Apple"))  # one lacks it: time and make decide


def test_the_identifier_is_read_from_an_apple_maker_note_in_either_byte_order() -> None:
    note = apple_maker_note("570F1469-09C7-4E50-9875-05F21D5BD166")
    assert apple_content_id(note) == "570F1469-09C7-4E50-9875-05F21D5BD166"
    little = note[:12] + b"II" + note[14:16][::-1] + b"".join(
        part[::-1] for part in (note[16:18], note[18:20], note[20:24], note[24:28])) + note[28:]
    assert apple_content_id(little) == "570F1469-09C7-4E50-9875-05F21D5BD166"
    assert apple_content_id(b"Nikon\0" + note[10:]) is None and apple_content_id(note[:20]) is None
    assert apple_content_id(None) is None


def test_a_real_iphone_heic_carries_its_live_photo_identifier(corpus: Path) -> None:
    import re

    from mavi_sync.media.probe import probe
    found = probe(corpus / "images/heic/apple-iphone11promax_N-W.HEIC").content_id
    assert found is not None and re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", found)


def test_halves_renamed_apart_pair_by_their_content_identifier(tmp_path: Path) -> None:
    """A Photos export or a renaming tool gives the halves different names: Apple's identifier
    still pairs them, and only the clip that carries the same one."""
    from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
    from mavi_sync.pipeline.plan import live_photo, plan_file
    from mavi_sync.config.schema import FolderConfig

    still = write_image(tmp_path / "2024-05-01 Beach.HEIC", ImageSpec(make="Apple", taken="2024:05:01 10:00:00",
                                                                       offset="+02:00", content_id="A1B2-C3"))
    write_video(tmp_path / "decoy.MOV", VideoSpec(make="Apple", content_id="ZZZZ-99"))
    clip = write_video(tmp_path / "2024-05-01 Beach (motion).MOV", VideoSpec(make="Apple", content_id="A1B2-C3"))
    write_image(tmp_path / "other.jpg", ImageSpec(make="Apple", taken="2024:05:01 10:00:00", offset="+02:00"))
    folder = FolderConfig(path=tmp_path)
    assert live_photo(plan_file(still, folder)) == Pair(still, clip)
    assert live_photo(plan_file(clip, folder)) == Pair(still, clip)
    assert live_photo(plan_file(tmp_path / "decoy.MOV", folder)) is None
    assert live_photo(plan_file(tmp_path / "other.jpg", folder)) is None  # no identifier: names must match
