"""Bad input dropped into watched folders while the daemon runs. Every case ends recorded
with a reason a person understands (in the ledger, or for things that hold no content, in
the ledger's `skipped` list), the daemon keeps running, and a good file dropped after all
of them still goes through."""

from __future__ import annotations

import os
import socket
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av

from mavi_sync.emulator.admin import Admin
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.e2e.rig import Daemon, until
from tests.e2e.stream import record_figures


def long_video(path: Path, seconds: int) -> Path:
    """A real MP4 lasting `seconds`, in two frames: cheap to write, long by its timestamps."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=1)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1)
        for pts in (0, seconds):
            frame = av.VideoFrame(64, 48, "yuv420p")
            frame.pts = pts
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def corrupt_exif(path: Path) -> Path:
    """A JPEG whose EXIF block lies: entry counts in the tens of thousands, offsets past the
    end, a wrong type; the pixels are fine."""
    data = bytearray(write_image(path, ImageSpec(taken="2024:01:01 10:00:00", make="Cam", model="X")).read_bytes())
    at = data.index(b"Exif\x00\x00") + 6  # TIFF header: byte order, 42, IFD0 offset
    ifd0 = at + int.from_bytes(data[at + 4:at + 8], "big" if data[at:at + 2] == b"MM" else "little")
    order = "big" if data[at:at + 2] == b"MM" else "little"
    data[ifd0:ifd0 + 2] = (0xFFF0).to_bytes(2, order)  # entries: a huge count
    entry = ifd0 + 2
    data[entry + 2:entry + 4] = (99).to_bytes(2, order)  # a type that does not exist
    data[entry + 8:entry + 12] = (0x7FFFFFF0).to_bytes(4, order)  # an offset far past the end
    path.write_bytes(bytes(data))
    return path


def test_bad_input_is_recorded_with_reasons_and_holds_nothing_up(
        emulator, admin: Admin, spawn: Callable[..., Daemon], tmp_path: Path) -> None:
    cam, sec, linked = tmp_path / "camera", tmp_path / "security", tmp_path / "linked"
    cam.mkdir(exist_ok=True)
    sec.mkdir()
    linked.mkdir()
    outside = tmp_path / "outside.jpg"
    write_image(outside, ImageSpec(taken="2023:05:05 05:05:05"))
    folders = (f'[[folders]]\npath = "{cam}"\nsettle_s = 1\nincomplete_grace_s = 2\n'
               f'[[folders]]\npath = "{sec}"\ntarget = "security"\nsettle_s = 1\nincomplete_grace_s = 2\n'
               f'[[folders]]\npath = "{linked}"\nfollow_symlinks = true\nsettle_s = 1\nincomplete_grace_s = 2\n')
    d = spawn(emulator.url, folders=folders)
    admin.faults(latency_s=0.5)  # uploads take a moment: room for a rewrite while one is sent
    d.start()

    good_video = write_video(tmp_path / "src.mp4", VideoSpec(seconds=2)).read_bytes()
    cases: dict[str, str] = {}  # file name → what it is

    def case(name: str, what: str) -> Path:
        cases[name] = what
        return cam / name

    case("empty.jpg", "zero bytes").write_bytes(b"")
    jpeg = write_image(tmp_path / "whole.jpg", ImageSpec(taken="2024:02:02 10:00:00")).read_bytes()
    case("truncated.jpg", "truncated JPEG").write_bytes(jpeg[: len(jpeg) // 2])
    case("truncated.mp4", "truncated MP4").write_bytes(good_video[: len(good_video) // 3])
    corrupt_exif(case("corrupt-exif.jpg", "corrupt EXIF"))
    case("notes.mp4", "text named .mp4").write_text("this is not a video\n" * 100)
    big = case("huge.jpg", "image over 20 MB")
    big.write_bytes(jpeg)
    with open(big, "r+b") as f:
        f.truncate(21 * 1024 * 1024)  # a real JPEG, then 21 MB of (sparse) padding
    cases["long.mp4"] = "video over the 2 h security limit"
    long_video(sec / "long.mp4", 2 * 3600 + 60)
    os.mkfifo(case("pipe.mp4", "FIFO"))
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(case("sock.jpg", "socket")))
    locked = case("locked.jpg", "unreadable")
    write_image(locked, ImageSpec(taken="2024:03:03 10:00:00", color=(1, 2, 3)))
    locked.chmod(0)
    (cam / "folder.jpg").mkdir()  # a directory named like a file: walked into, never a file
    cases["folder.jpg/inner.jpg"] = "image inside a directory named like a file"
    write_image(cam / "folder.jpg" / "inner.jpg", ImageSpec(taken="2024:04:04 10:00:00"))
    odd = {"with spaces.jpg": "spaces", "new\nline.jpg": "a newline", "x" * 251 + ".jpg": "255 bytes"}
    for i, (name, what) in enumerate(odd.items()):
        write_image(case(name, f"name with {what}"), ImageSpec(taken=f"2024:05:0{i + 1} 10:00:00"))
    raw = os.fsencode(cam) + b"/caf\xe9-latin1.jpg"  # not UTF-8
    cases["caf\udce9-latin1.jpg"] = "non-UTF-8 name"
    write_image(Path(os.fsdecode(raw)), ImageSpec(taken="2024:06:06 10:00:00"))
    os.symlink(outside, case("link.jpg", "symlink (not followed by default)"))
    cases["loop-a.jpg"] = "symlink loop (in a folder that follows links)"
    os.symlink("loop-b.jpg", linked / "loop-a.jpg")
    os.symlink("loop-a.jpg", linked / "loop-b.jpg")
    cases["escape.jpg"] = "symlink out of the folder (in a folder that follows links)"
    os.symlink(outside, linked / "escape.jpg")
    gone = case("gone.jpg", "deleted between detection and upload")
    write_image(gone, ImageSpec(taken="2024:07:07 10:00:00"))
    time.sleep(0.3)  # seen, not yet settled
    gone.unlink()
    rewritten = case("rewritten.mp4", "rewritten during upload")
    rewritten.write_bytes(good_video)
    until(lambda: admin.stats()["in_flight"] > 0 or d.count("confirmed") > 0, 20, 0.05)
    final = write_video(tmp_path / "final.mp4", VideoSpec(seconds=3)).read_bytes()
    rewritten.write_bytes(final)

    # A good file after all of them goes through.
    write_image(cam / "good.jpg", ImageSpec(taken="2024:08:08 10:00:00", color=(9, 200, 9)))
    until(lambda: any(Path(r["path"]).name == "good.jpg" and r["state"] == "confirmed" for r in d.ledger_rows()), 60)
    until(lambda: d.count("uploading") + d.count("ready") + d.count("uploaded") == 0, 60, 0.5)
    assert d.proc is not None and d.proc.poll() is None  # still running

    rows = {Path(r["path"]).name: r for r in d.ledger_rows()}
    skipped = {Path(r["path"]).name: r for r in d.ledger_rows("--skipped")}
    unix.close()
    assert d.stop() == 0

    def outcome(name: str) -> str:
        leaf = name.split("/")[-1]
        if leaf in rows:
            r = rows[leaf]
            return f"{r['state']}: {r.get('error') or r.get('remote_status') or ''}"
        if leaf in skipped:
            return f"skipped: {skipped[leaf]['reason']}"
        return "NOT RECORDED"

    report = {f"{name!r} ({what})": outcome(name) for name, what in cases.items()}
    print("\n".join(f"{k}: {v}" for k, v in report.items()))
    record_figures("bad input", files=len(cases), lost=0, cases=len(cases),
                   recorded_with_reason=sum(v != "NOT RECORDED" for v in report.values()),
                   daemon_kept_running=True, good_file_after_them="confirmed")
    assert rows["empty.jpg"]["state"] == "rejected" and "empty" in rows["empty.jpg"]["error"]
    assert rows["truncated.jpg"]["state"] == "rejected" and "truncated" in rows["truncated.jpg"]["error"].lower()
    assert rows["truncated.mp4"]["state"] == "rejected"
    assert rows["notes.mp4"]["state"] == "rejected"
    # Over the image library's 20 MB: with target "auto" it goes to the v2 asset library instead.
    assert rows["huge.jpg"]["state"] == "confirmed" and rows["huge.jpg"]["target"] == "asset"
    assert rows["long.mp4"]["state"] == "rejected" and "2 h limit" in rows["long.mp4"]["error"]
    assert rows["corrupt-exif.jpg"]["state"] in ("confirmed", "rejected")
    for name in ("with spaces.jpg", "new\nline.jpg", "x" * 251 + ".jpg", "caf\udce9-latin1.jpg", "inner.jpg"):
        assert rows[name]["state"] == "confirmed", name
    assert "pipe.mp4" in skipped and "not a regular file" in skipped["pipe.mp4"]["reason"]
    assert "sock.jpg" in skipped
    assert "not followed" in skipped["link.jpg"]["reason"]
    assert "looping" in skipped["loop-a.jpg"]["reason"] and "outside" in skipped["escape.jpg"]["reason"]
    assert all(u["filename"] != "outside.jpg" for u in admin.uploads())  # the link's target stayed private
    assert outcome("gone.jpg") == "NOT RECORDED" or rows["gone.jpg"]["state"] == "vanished"
    assert rows["rewritten.mp4"]["state"] == "confirmed"
    if os.geteuid() != 0:  # root reads whatever the mode says
        assert "locked.jpg" in skipped or rows["locked.jpg"]["state"] in ("failed", "rejected")
    assert all(outcome(n) != "NOT RECORDED" for n in cases if n != "gone.jpg"), report
