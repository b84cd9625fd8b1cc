"""Camera video in containers the endpoints refuse: a camcorder's MPEG-TS clip reaches the
video endpoint as an MP4 remuxed in the probe helper, keyed by the original's hash."""

from __future__ import annotations

from pathlib import Path

from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.emulator.admin import Admin
from mavi_sync.media.probe import probe
from tests.e2e.rig import sha, until


def test_an_mts_clip_lands_as_an_mp4_and_is_archived_once_confirmed(spawn, emulator, admin: Admin,
                                                                    tmp_path: Path) -> None:
    d = spawn(emulator.url, target="video", after_upload="archive", archive_dir=str(tmp_path / "archive"))
    d.start()
    clip = write_video(tmp_path / "00001.MTS", VideoSpec(seconds=2))
    original_sha = sha(clip)
    (d.camera / clip.name).write_bytes(clip.read_bytes())
    until(lambda: d.count("confirmed") == 1, 30)
    [upload] = admin.uploads("video")
    received = probe(Path(upload["blob"]))
    assert upload["filename"] == "00001.mp4" and upload["content_type"] == "video/mp4"
    assert received.kind is not None and received.kind.format == "mp4" and received.video_codec == "h264"
    assert f"sha256:{original_sha}" in upload["tags"]  # the identity is the original's, on the server too
    [row] = d.ledger_rows()
    assert row["sha256"] == original_sha and row["sent_sha256"] == upload["sha256"] == sha(Path(upload["blob"]))
    until(lambda: (tmp_path / "archive" / clip.name).exists(), 10)
    assert sha(tmp_path / "archive" / clip.name) == original_sha
    assert list((d.root / "staging").iterdir()) == []
    assert d.stop() == 0


def test_mpeg4_part2_is_re_encoded_only_where_the_folder_says_transcode(spawn, emulator, admin: Admin,
                                                                       tmp_path: Path) -> None:
    """Without `transcode = true` the video target refuses it, naming the setting; with it,
    the endpoint gets H.264 in MP4."""
    clip = write_video(tmp_path / "MVI_0001.AVI", VideoSpec(codec="mpeg4", seconds=2, audio=True))
    plain, transcoded = tmp_path / "plain", tmp_path / "transcoded"
    plain.mkdir()
    transcoded.mkdir()
    folders = (f'[[folders]]\npath = "{plain}"\ntarget = "video"\nsettle_s = 1\n'
               f'[[folders]]\npath = "{transcoded}"\ntarget = "video"\nsettle_s = 1\ntranscode = true\n')
    d = spawn(emulator.url, folders=folders)
    d.start()
    (plain / clip.name).write_bytes(clip.read_bytes())
    (transcoded / "MVI_0002.AVI").write_bytes(write_video(tmp_path / "b.avi", VideoSpec(
        codec="mpeg4", seconds=2.5, audio=True)).read_bytes())
    until(lambda: d.count("confirmed") == 1 and d.count("rejected") == 1, 60)
    [upload] = admin.uploads("video")
    received = probe(Path(upload["blob"]))
    assert upload["filename"] == "MVI_0002.mp4" and (received.video_codec, received.audio_codec) == ("h264", "aac")
    [refused] = [r for r in d.ledger_rows() if r["state"] == "rejected"]
    assert Path(refused["path"]).name == clip.name and "transcode = true" in refused["error"]
    assert d.stop() == 0


def test_a_raw_h264_dump_reaches_the_security_endpoint_as_an_mp4(spawn, emulator, admin: Admin, tmp_path: Path,
                                                                 corpus: Path) -> None:
    """The Axis camera's raw dump of the corpus and one PyAV writes: refused before by the
    security target ("duration unknown") while the video target took them."""
    d = spawn(emulator.url, target="security")
    d.start()
    raw = [corpus / "video/axis-ipcam_raw-annexb.h264", write_video(tmp_path / "cam.h264", VideoSpec(seconds=2))]
    for i, source in enumerate(raw):
        (d.camera / f"dump{i}.h264").write_bytes(source.read_bytes())
    until(lambda: d.count("confirmed") == 2, 60)
    uploads = sorted(admin.uploads("security"), key=lambda u: u["filename"])
    assert [u["filename"] for u in uploads] == ["dump0.mp4", "dump1.mp4"]
    for upload, source in zip(uploads, raw):
        received = probe(Path(upload["blob"]))
        assert received.kind is not None and received.kind.format == "mp4" and received.video_codec == "h264"
        assert received.duration_s is not None and received.duration_s < 3
    assert not d.events("media_rejected")
    assert d.stop() == 0
