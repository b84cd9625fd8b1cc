"""Property tests of the pure core: whatever comes in, the contract holds."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePath

from hypothesis import given, settings
from hypothesis import strategies as st

from mavi_sync.config import build_config
from mavi_sync.config.schema import FolderConfig
from mavi_sync.errors import ConfigError
from mavi_sync.media.capture import resolve_capture
from mavi_sync.media.fields import MAX_TAG_LEN, build_fields
from mavi_sync.media.model import MediaInfo, Taken
from mavi_sync.media.rules import LIMITS
from mavi_sync.media.sniff import kind_by_name
from mavi_sync.media.values import clean_text, parse_datetime

toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
config_keys = st.sampled_from(["api", "uploads", "ledger", "folders", "log_level", "path", "target", "tags",
                               "concurrency", "timezone", "security", "key", "junk"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(config_keys, toml_values | st.lists(st.dictionaries(config_keys, toml_values), max_size=2)))
def test_config_parsing_raises_only_config_errors(data: dict) -> None:
    try:
        build_config(data)
    except ConfigError as exc:
        assert exc.problems


texts = st.one_of(st.none(), st.text(max_size=300), st.binary(max_size=300))


@settings(max_examples=300, deadline=None)
@given(make=texts, model=texts, keywords=st.lists(st.text(max_size=150), max_size=80),
       when=st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2099, 1, 1)),
       offset=st.one_of(st.none(), st.integers(-14 * 60, 14 * 60)),
       target=st.sampled_from(["video", "image"]), folder_tags=st.lists(st.text(max_size=40), max_size=30))
def test_upload_fields_are_always_within_api_limits(make, model, keywords, when, offset, target,
                                                    folder_tags) -> None:
    aware = when.replace(tzinfo=timezone(timedelta(minutes=offset))) if offset is not None else when
    info = MediaInfo(path="x", size=1, kind=kind_by_name("mp4" if target == "video" else "jpeg"),
                     taken=Taken(aware, "exif"), make=clean_text(make), model=clean_text(model),
                     keywords=tuple(keywords))
    folder = FolderConfig(path=Path("/c"), tags=tuple(t for t in folder_tags if t.strip()))
    capture = resolve_capture(info.taken, "x", 0, timezone.utc)
    form = build_fields(info, PurePath("a/x"), folder, capture, target, sha256="f" * 64).form
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", form["datetime_taken"])
    assert len(form.get("camera_model", "")) <= 200
    tags = form.get("tags", [])
    assert len(tags) <= LIMITS[target].max_tags and len(set(t.lower() for t in tags)) == len(tags)
    assert all(0 < len(t) <= MAX_TAG_LEN and t.isprintable() for t in tags)


@given(st.one_of(st.text(), st.binary()))
def test_text_and_date_parsers_never_raise(raw) -> None:
    cleaned = clean_text(raw)
    assert cleaned is None or (cleaned.isprintable() and cleaned == cleaned.strip())
    parse_datetime(raw)
