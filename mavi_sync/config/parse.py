"""Dict (from TOML) → `Config`, collecting every problem before raising `ConfigError`.

Pure: no file system access (those checks live in `checks.py`).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mavi_sync.config.fleet import fleet
from mavi_sync.config.reader import Table
from mavi_sync.config.unattended import bandwidth, health, notify
from mavi_sync.config.web import web
from mavi_sync.config.schema import (
    AFTER_UPLOAD,
    DATETIME_MODES,
    FOLDER_TARGETS,
    SECURITY_MODES,
    WATCH_MODES,
    ApiConfig,
    Config,
    FolderConfig,
    KeySource,
    LedgerConfig,
    MetricsConfig,
    Person,
    ReceiverConfig,
    SecurityConfig,
    UploadsConfig,
)
from mavi_sync.errors import ConfigError, Problem

# Names a tag template may use, e.g. "cam:{folder}" or "{rel_dir}".
TAG_TEMPLATE_FIELDS = (
    "rel_dir", "dir", "folder", "year", "month", "day", "yyyy", "mm", "dd", "camera_model", "ext", "media_type",
    "target",
)
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_CALLBACK = 299  # the v1 API's documented limit
MAX_CAMERA_MODEL = 200
MAX_TAG_LEN = 100
MAX_PERSONS = 5
MAX_FOLDER_NAME = 100  # the folders API's documented limit


def build_config(data: Any, *, base_dir: Path = Path("."), source: Optional[Path] = None) -> Config:
    """Return a validated Config; raise ConfigError listing every problem found."""
    problems: list[Problem] = []
    root = Table(data, "", problems, base_dir)
    config = Config(
        api=_api(root.table("api")),
        uploads=_uploads(root.table("uploads")),
        ledger=_ledger(root.table("ledger")),
        metrics=_metrics(root.table("metrics")),
        folders=tuple(_folder(t) for t in root.tables("folders")),
        receiver=_receiver(root.table("receiver")),
        notify=notify(root.table("notify")),
        health=health(root.table("health")),
        bandwidth=bandwidth(root.table("bandwidth")),
        fleet=fleet(root.table("fleet")),
        web=web(root.table("web")),
        log_level=root.string("log_level", "info", choices=LOG_LEVELS),
        source=source,
    )
    for i, folder in enumerate(config.folders):
        sec = folder.security
        if folder.target in ("security", "auto") and sec.mode == "async" and not sec.callback \
                and not config.receiver.listen:
            problems.append(Problem(f"folders[{i}].security.callback", "",
                                    "a callback URL, or a [receiver] to take the results: the async security "
                                    "endpoint requires one (or mode = 'sync')"))
    root.finish()
    if not config.folders and not problems:
        problems.append(Problem("folders", [], "at least one [[folders]] table"))
    if problems:
        raise ConfigError(problems, str(source) if source else "config")
    return config


def _url(t: Table, name: str, default: str) -> str:
    value = t.string(name, default)
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        t.problem(name, value, "an http:// or https:// URL with a host")
        return default
    return value.rstrip("/")


def _optional_url(t: Table, name: str, *, max_len: int = MAX_CALLBACK) -> str:
    value = t.string(name, "", max_len=max_len)
    if value and not (urlparse(value).scheme in ("http", "https") and urlparse(value).netloc):
        t.problem(name, value, "an http:// or https:// URL with a host")
        return ""
    return value


def _key_source(t: Table, default: KeySource) -> KeySource:
    source = KeySource(
        env=t.string("env", default.env),
        file=t.path("file", default.file),
        credential=t.string("credential", default.credential),
        value=t.string("value", ""),
    )
    t.finish()
    return source


def _api(t: Table) -> ApiConfig:
    d = ApiConfig()
    api = ApiConfig(
        base_url=_url(t, "base_url", d.base_url),
        security_base_url=_url(t, "security_base_url", d.security_base_url),
        asset_base_url=_url(t, "asset_base_url", d.asset_base_url),
        key=_key_source(t.table("key"), d.key),
        security_key=_key_source(t.table("security_key"), d.security_key),
    )
    t.finish()
    return api


def _uploads(t: Table) -> UploadsConfig:
    d = UploadsConfig()
    u = UploadsConfig(
        concurrency=t.number("concurrency", d.concurrency, minimum=1, maximum=64, integer=True),
        rate_limit_per_minute=t.number("rate_limit_per_minute", d.rate_limit_per_minute, above=0),
        query_rate_limit_per_second=t.number("query_rate_limit_per_second", d.query_rate_limit_per_second, above=0),
        request_attempts=t.number("request_attempts", d.request_attempts, minimum=1, maximum=20, integer=True),
        request_retry_initial_s=t.number("request_retry_initial_s", d.request_retry_initial_s, above=0),
        image_batch_files=t.number("image_batch_files", d.image_batch_files, minimum=1, maximum=100, integer=True),
        max_attempts=t.number("max_attempts", d.max_attempts, minimum=1, integer=True),
        retry_initial_s=t.number("retry_initial_s", d.retry_initial_s, above=0),
        retry_max_s=t.number("retry_max_s", d.retry_max_s, above=0),
        failed_cooldown_s=t.number("failed_cooldown_s", d.failed_cooldown_s, minimum=0),
        connect_timeout_s=t.number("connect_timeout_s", d.connect_timeout_s, above=0),
        read_timeout_s=t.number("read_timeout_s", d.read_timeout_s, above=0),
        status_poll_initial_s=t.number("status_poll_initial_s", d.status_poll_initial_s, above=0),
        status_poll_max_s=t.number("status_poll_max_s", d.status_poll_max_s, above=0),
        status_give_up_s=t.number("status_give_up_s", d.status_give_up_s, above=0),
        video_sha_tag=t.boolean("video_sha_tag", d.video_sha_tag),
        shutdown_grace_s=t.number("shutdown_grace_s", d.shutdown_grace_s, minimum=0),
        account_probe_s=t.number("account_probe_s", d.account_probe_s, above=0),
        rescan_interval_s=t.number("rescan_interval_s", d.rescan_interval_s, above=0),
        probe_idle_s=t.number("probe_idle_s", d.probe_idle_s, minimum=0, maximum=86400),
        staging_max_mb=t.number("staging_max_mb", d.staging_max_mb, minimum=1),
    )
    if u.retry_max_s < u.retry_initial_s:
        t.problem("retry_max_s", u.retry_max_s, f"a number >= retry_initial_s ({u.retry_initial_s:g})")
    if u.status_poll_max_s < u.status_poll_initial_s:
        t.problem("status_poll_max_s", u.status_poll_max_s,
                  f"a number >= status_poll_initial_s ({u.status_poll_initial_s:g})")
    t.finish()
    return u


def _ledger(t: Table) -> LedgerConfig:
    d = LedgerConfig()
    ledger = LedgerConfig(path=t.path("path", None), backup_dir=t.path("backup_dir", None),
                          backup_interval_s=t.number("backup_interval_s", d.backup_interval_s, minimum=60),
                          backup_keep=t.number("backup_keep", d.backup_keep, minimum=1, maximum=1000, integer=True))
    t.finish()
    return ledger


def _metrics(t: Table) -> MetricsConfig:
    metrics = MetricsConfig(port=t.number("port", 0, minimum=0, maximum=65535, integer=True),
                            address=t.string("address", "127.0.0.1"))
    t.finish()
    return metrics


def _zone(t: Table, name: str) -> Optional[ZoneInfo]:
    value = t.string(name, "")
    if not value or value == "local":
        return None
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        t.problem(name, value, "an IANA time zone such as 'Europe/Berlin', 'UTC' or 'local'")
        return None


JPEG_SOURCES = ("heif", "avif", "tiff")


def _to_jpeg(t: Table) -> tuple[str, ...]:
    formats = t.strings("to_jpeg", FolderConfig.to_jpeg)
    for name in formats:
        if name not in JPEG_SOURCES:
            t.problem("to_jpeg", name, "formats among " + ", ".join(repr(f) for f in JPEG_SOURCES) + " (or [])")
    return tuple(f for f in formats if f in JPEG_SOURCES)


def _templates(t: Table, name: str) -> tuple[str, ...]:
    templates = t.strings(name, ())
    for template in templates:
        _template_problem(t, name, template)
    return templates


def _template_problem(t: Table, name: str, template: str) -> bool:
    """Note a template that cannot be rendered (bad braces, unknown placeholders); True if so."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        t.problem(name, template, f"a valid template ({exc})")
        return True
    if any(f not in TAG_TEMPLATE_FIELDS for f in fields):
        t.problem(name, template, "placeholders among {" + "}, {".join(TAG_TEMPLATE_FIELDS) + "}")
        return True
    return False


def folder_name_problem(name: str) -> Optional[str]:
    """Why `name` (a rendered server_folder, its ends stripped) cannot name a memories.ai
    folder, or None: empty, longer than the API takes, or holding control characters."""
    if not name:
        return "it is empty"
    if len(name) > MAX_FOLDER_NAME:
        return f"it is {len(name)} characters long, the API takes at most {MAX_FOLDER_NAME}"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it holds control characters"
    return None


def _server_folder(t: Table, folder_id: int) -> str:
    """[[folders]] server_folder: a template whose fixed text alone fits a folder name."""
    template = t.string("server_folder", "")
    if not template or _template_problem(t, "server_folder", template):
        return ""
    fixed = "".join(text for text, _, _, _ in string.Formatter().parse(template))
    if len(fixed.strip()) > MAX_FOLDER_NAME:
        t.problem("server_folder", template, f"a folder name of at most {MAX_FOLDER_NAME} characters")
        return ""
    if folder_id != -1:
        t.problem("folder_id", folder_id, "no folder_id beside server_folder (the template names the folder)")
    return template


def _persons(t: Table) -> tuple[Person, ...]:
    persons = []
    tables = t.tables("persons")
    if len(tables) > MAX_PERSONS:
        t.problem("persons", f"{len(tables)} entries", f"at most {MAX_PERSONS} persons (API limit)")
    for pt in tables[:MAX_PERSONS]:
        name = pt.string("name", "")
        url = _optional_url(pt, "url", max_len=2048)
        if not name or not url:
            pt.problem("name" if not name else "url", name or url, "both name and url for each person")
        pt.finish()
        persons.append(Person(name, url))
    return tuple(persons)


def _security(t: Table) -> SecurityConfig:
    d = SecurityConfig()
    sec = SecurityConfig(
        mode=t.string("mode", d.mode, choices=SECURITY_MODES),
        user_prompt=t.string("user_prompt", d.user_prompt),
        system_prompt=t.string("system_prompt", d.system_prompt),
        callback=_optional_url(t, "callback"),
        thinking=t.boolean("thinking", d.thinking),
        qa=t.boolean("qa", d.qa),
        reasoning_effort=t.string("reasoning_effort", d.reasoning_effort,
                                  choices=("",) + tuple(str(i) for i in range(1, 11))),
        persons=_persons(t),
    )
    if not sec.user_prompt.strip() or not sec.system_prompt.strip():
        t.problem("user_prompt", sec.user_prompt, "non-empty user_prompt and system_prompt (both required by the API)")
    t.finish()
    return sec


def _sidecar(t: Table) -> str:
    value = t.string("caption_sidecar", "")
    if value in ("", "beside"):
        return value
    where = t.path("caption_sidecar", None)
    return str(where) if where is not None else ""


def _receiver(t: Table) -> ReceiverConfig:
    listen = t.string("listen", "")
    public_url = _optional_url(t, "public_url", max_len=200)
    if listen:
        host, sep, port = listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            t.problem("listen", listen, "HOST:PORT to listen on, e.g. \"127.0.0.1:8788\"")
        if not public_url:
            t.problem("public_url", "", "the public http(s) URL that reaches the listener (memories.ai posts there)")
    t.finish()
    return ReceiverConfig(listen, public_url)


def _folder(t: Table) -> FolderConfig:
    d = FolderConfig(path=Path("."))
    path = t.path("path", None)
    if path is None:
        t.problem("path", None, "the folder to watch (required)")
        path = Path("/nonexistent")
    folder_id = t.number("folder_id", -1, minimum=-1, integer=True)
    folder = FolderConfig(
        path=path,
        recursive=t.boolean("recursive", d.recursive),
        target=t.string("target", d.target, choices=FOLDER_TARGETS),
        include=t.strings("include", d.include),
        exclude=t.strings("exclude", d.exclude),
        temp_patterns=t.strings("temp_patterns", d.temp_patterns),
        settle_s=t.number("settle_s", d.settle_s, minimum=0, maximum=86400),
        incomplete_grace_s=t.number("incomplete_grace_s", d.incomplete_grace_s, minimum=0, maximum=7 * 86400),
        to_jpeg=_to_jpeg(t),
        jpeg_quality=t.number("jpeg_quality", d.jpeg_quality, minimum=50, maximum=100, integer=True),
        live_photos=t.string("live_photos", d.live_photos, choices=("still", "both", "video")),
        transcode=t.boolean("transcode", d.transcode),
        max_size_mb=t.number("max_size_mb", d.max_size_mb, minimum=0),
        unique_id=t.string("unique_id", d.unique_id, max_len=100) or d.unique_id,
        tags=t.strings("tags", d.tags, max_len=MAX_TAG_LEN),
        tag_templates=_templates(t, "tag_templates"),
        camera_model=t.string("camera_model", d.camera_model, max_len=MAX_CAMERA_MODEL),
        latitude=t.optional_number("latitude", minimum=-90, maximum=90),
        longitude=t.optional_number("longitude", minimum=-180, maximum=180),
        timezone=_zone(t, "timezone"),
        datetime_mode=t.string("datetime_mode", d.datetime_mode, choices=DATETIME_MODES),
        video_transcription_prompt=t.string("video_transcription_prompt", ""),
        retain_original_video=t.boolean("retain_original_video", d.retain_original_video),
        folder_id=None if folder_id == -1 else folder_id,
        server_folder=_server_folder(t, folder_id),
        callback=_optional_url(t, "callback"),
        after_upload=t.string("after_upload", d.after_upload, choices=AFTER_UPLOAD),
        archive_dir=t.path("archive_dir", None),
        watch=t.string("watch", d.watch, choices=WATCH_MODES),
        follow_symlinks=t.boolean("follow_symlinks", d.follow_symlinks),
        security=_security(t.table("security")),
        caption_sidecar=_sidecar(t),
    )
    if t.has("latitude") != t.has("longitude"):  # what was written, not what parsed
        t.problem("longitude" if t.has("latitude") else "latitude", None,
                  "latitude and longitude together (a fixed camera position needs both)")
    if folder.after_upload == "archive" and folder.archive_dir is None:
        t.problem("archive_dir", None, "a directory, because after_upload = 'archive'")
    t.finish()
    return folder
