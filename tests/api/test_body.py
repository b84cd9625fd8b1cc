"""Streamed multipart bodies: exact bytes, progress, and the guard against a changing file."""

from __future__ import annotations

import os
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import pytest

from mavi_sync.api.body import Body, FilePart, form_fields
from mavi_sync.errors import FileChanged


def part_for(path: Path, name: str = "file", mime: str = "video/mp4") -> FilePart:
    st = path.stat()
    return FilePart(name, path, path.name, mime, st.st_size, st.st_mtime_ns)


def read_all(body: Body, chunk: int = 1 << 16) -> bytes:
    out = bytearray()
    while True:
        data = body.stream.read(chunk)
        if not data:
            return bytes(out)
        out += data


def parse(content_type: str, payload: bytes) -> list[tuple[str, str | None, str, bytes]]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + payload)
    return [(p.get_param("name", header="content-disposition"), p.get_filename(), p.get_content_type(),
             p.get_payload(decode=True)) for p in message.iter_parts()]


def test_the_body_carries_fields_and_file_bytes_exactly(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(os.urandom(300_000))
    seen: list[tuple[int, int]] = []
    with Body(form_fields({"unique_id": "cam", "tags": ["a", "b"], "retain_original_video": True}),
              [part_for(video)], progress=lambda sent, total: seen.append((sent, total))) as body:
        payload = read_all(body)
        assert body.complete and body.sent == body.total == len(payload)
    parts = parse(body.content_type, payload)
    assert [(n, f, v) for n, f, _, v in parts[:4]] == [
        ("unique_id", None, b"cam"), ("tags", None, b"a"), ("tags", None, b"b"),
        ("retain_original_video", None, b"true")]
    assert parts[4][:3] == ("file", "clip.mp4", "video/mp4") and parts[4][3] == video.read_bytes()
    assert seen[-1] == (len(payload), len(payload)) and len(seen) > 2
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_a_file_that_grows_while_sent_aborts_the_attempt(tmp_path: Path) -> None:
    video = tmp_path / "growing.mp4"
    video.write_bytes(b"\0" * 200_000)
    with Body([], [part_for(video)]) as body:
        body.stream.read(50_000)
        with open(video, "ab") as f:
            f.write(b"more")
        with pytest.raises(FileChanged, match="changed while being sent"):
            read_all(body)
        assert not body.complete


def test_a_file_that_changed_before_sending_is_caught_at_open(tmp_path: Path) -> None:
    video = tmp_path / "a.mp4"
    video.write_bytes(b"1234")
    part = part_for(video)
    os.utime(video, ns=(part.mtime_ns, part.mtime_ns + 1_000_000_000))
    with pytest.raises(FileChanged):
        Body([], [part])


def test_a_vanished_file_is_a_file_change_not_a_crash(tmp_path: Path) -> None:
    video = tmp_path / "gone.mp4"
    video.write_bytes(b"1234")
    part = part_for(video)
    video.unlink()
    with pytest.raises(FileChanged, match="vanished"):
        Body([], [part])


def test_the_body_is_not_read_into_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.mkv"
    with open(big, "wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB
    with Body([], [part_for(big)]) as body:
        first = body.stream.read(1 << 20)
        assert len(first) == 1 << 20
        assert body.sent < (2 << 20)  # only what was asked for has been read
        assert body.total > 64 << 20


def test_form_fields_spell_booleans_and_repeat_lists() -> None:
    assert form_fields({"a": False, "b": 1.5, "tags": ("x", "y")}) == [
        ("a", "false"), ("b", "1.5"), ("tags", "x"), ("tags", "y")]
