"""The upload plan: what name a file is sent under."""

from __future__ import annotations

import os
from pathlib import Path

from mavi_sync.media.probe import probe
from mavi_sync.pipeline.plan import upload_filename
from mavi_sync.dev.samples import ImageSpec, write_image


def test_a_name_that_is_not_utf8_is_sent_as_text_and_the_extension_follows_the_content(tmp_path: Path) -> None:
    latin1 = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jpeg"))  # named in Latin-1, .jpeg
    write_image(Path(os.fsdecode(os.fsencode(tmp_path) + b"/tmp.jpg")), ImageSpec()).rename(latin1)
    name = upload_filename(latin1, probe(latin1))
    assert name == "caf\ufffd.jpg"
    name.encode("utf-8")  # a multipart header must be encodable: this raised before
    plain = write_image(tmp_path / "ok.jpg", ImageSpec())
    assert upload_filename(plain, probe(plain)) == "ok.jpg"
