"""The config model: frozen dataclasses with the defaults the example config documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from mavi_sync.owner.timetable import Timetable, Windows

# The four upload targets, plus `auto` for folders (chosen per file by media type).
TARGETS = ("video", "image", "security", "asset")
FOLDER_TARGETS = TARGETS + ("auto",)
AFTER_UPLOAD = ("keep", "archive", "delete")
DATETIME_MODES = ("local", "utc")
SECURITY_MODES = ("async", "sync")
WATCH_MODES = ("auto", "inotify", "poll")

# Names writers use while a file is incomplete: dot-files (rsync's .name.XXXXXX, Syncthing's
# .syncthing.*.tmp, pure-ftpd's and ProFTPD's hidden stores), browsers' .part/.crdownload,
# WinSCP's .filepart, Resilio Sync's .!sync, editors' ~ files.
DEFAULT_TEMP_PATTERNS = ("*.tmp", "*.part", "*.crdownload", "~*", ".*", "*.partial", "*.download", "*.filepart",
                         "*.!sync")


@dataclass(frozen=True)
class KeySource:
    """Where an API key comes from; resolution happens only when a key is needed."""

    env: str = ""
    file: Optional[Path] = None
    credential: str = ""
    # Clear-text value from the TOML: discouraged, warned about when the file is world-readable.
    value: str = field(default="", repr=False)

    def is_set(self) -> bool:
        return bool(self.env or self.file or self.credential or self.value)


@dataclass(frozen=True)
class ApiConfig:
    base_url: str = "https://api.memories.ai"
    security_base_url: str = "https://security.memories.ai"
    asset_base_url: str = "https://mavi-backend.memories.ai"
    key: KeySource = KeySource(env="MAVI_API_KEY", credential="mavi-api-key")
    security_key: KeySource = KeySource(env="MAVI_SECURITY_KEY", credential="mavi-security-key")


@dataclass(frozen=True)
class UploadsConfig:
    concurrency: int = 2
    rate_limit_per_minute: float = 60.0
    # Status and lookup requests (get_metadata, list_videos): the vendor says 1–5 per second.
    query_rate_limit_per_second: float = 1.0
    # In-process tries per request before the file waits for its next attempt in the ledger.
    request_attempts: int = 3
    request_retry_initial_s: float = 1.0
    # Images sharing every metadata field go up together, at most this many per request.
    image_batch_files: int = 10
    max_attempts: int = 8
    retry_initial_s: float = 10.0
    retry_max_s: float = 3600.0
    failed_cooldown_s: float = 86400.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 300.0
    status_poll_initial_s: float = 15.0
    status_poll_max_s: float = 600.0
    status_give_up_s: float = 86400.0
    # Each video carries a tag derived from its sha256 so an unknown outcome can be
    # looked up instead of uploading twice. It costs one of the 20 video tags.
    video_sha_tag: bool = True
    shutdown_grace_s: float = 30.0
    # While an account error pauses uploads, one attempt is let through this often.
    account_probe_s: float = 60.0
    rescan_interval_s: float = 900.0
    # The probe helper process leaves after this long without a file (it costs ~45 MB
    # while it lives, ~0.15 s of CPU to start again).
    probe_idle_s: float = 10.0
    # Converted files (HEIC → JPEG) wait in the state directory's staging/ until sent; past
    # this much, conversions wait for room.
    staging_max_mb: float = 2000.0


@dataclass(frozen=True)
class MetricsConfig:
    # Prometheus metrics on http://address:port/metrics; 0 = off. Localhost only by default.
    port: int = 0
    address: str = "127.0.0.1"


@dataclass(frozen=True)
class LedgerConfig:
    # None = $STATE_DIRECTORY/ledger.sqlite3 under systemd, else the platform state dir.
    path: Optional[Path] = None
    # A consistent copy of the ledger (SQLite's online backup) made there this often by the
    # daemon, the newest `backup_keep` kept; `mavi-sync recover --backup` restores one.
    backup_dir: Optional[Path] = None
    backup_interval_s: float = 86400.0
    backup_keep: int = 7


@dataclass(frozen=True)
class Person:
    name: str
    url: str


@dataclass(frozen=True)
class SecurityConfig:
    mode: str = "sync"
    user_prompt: str = "Describe what happens in this video, who appears and what they do."
    system_prompt: str = "You are a video understanding system for security cameras."
    callback: str = ""
    thinking: bool = False
    qa: bool = False
    reasoning_effort: str = ""
    persons: tuple[Person, ...] = ()


@dataclass(frozen=True)
class FolderConfig:
    path: Path
    recursive: bool = True
    target: str = "auto"
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    temp_patterns: tuple[str, ...] = DEFAULT_TEMP_PATTERNS
    settle_s: float = 10.0
    # A file that cannot be read as the media it claims to be (no `moov`, a JPEG cut short,
    # zeros from a preallocation) while it changed less than this long ago is not refused
    # but settles again: its writer may only be pausing. Refused once it is older.
    incomplete_grace_s: float = 300.0
    # Photo formats no endpoint takes, converted to JPEG for the image target (and auto):
    # any of "heif" (HEIC, what phones write), "avif", "tiff". [] refuses them instead.
    to_jpeg: tuple[str, ...] = ("heif", "avif")
    jpeg_quality: int = 90
    # An iPhone Live Photo (IMG_0001.HEIC + IMG_0001.MOV): "still" sends the photo and skips
    # the clip, "both" sends both with a shared tag, "video" sends the clip only.
    live_photos: str = "still"
    # Re-encode video whose codec the video endpoint refuses (MJPEG from trail and older
    # cameras, MPEG-4 Part 2) as H.264. CPU-heavy on a small box: one at a time, niced.
    transcode: bool = False
    # Refuse files larger than this even when the target would take them; 0 = the target's limit.
    max_size_mb: float = 0.0
    unique_id: str = "default"
    tags: tuple[str, ...] = ()
    tag_templates: tuple[str, ...] = ()
    camera_model: str = ""
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    # None = the machine's local zone.
    timezone: Optional[ZoneInfo] = None
    datetime_mode: str = "local"
    video_transcription_prompt: str = ""
    retain_original_video: bool = True
    folder_id: Optional[int] = None
    # The memories.ai folder each video goes to, by a template of the tag templates'
    # placeholders (e.g. "{folder}/{yyyy}-{mm}"); made once through the API, its id kept
    # in the ledger. "" = folder_id (or the account's default folder).
    server_folder: str = ""
    callback: str = ""
    after_upload: str = "keep"
    archive_dir: Optional[Path] = None
    watch: str = "auto"
    follow_symlinks: bool = False
    security: SecurityConfig = SecurityConfig()
    # Security captions written to a file too: "" (no), "beside" (CLIP.caption.txt next to
    # the clip) or a directory (the folder's tree mirrored there).
    caption_sidecar: str = ""

    @property
    def name(self) -> str:
        return self.path.name or str(self.path)


@dataclass(frozen=True)
class ReceiverConfig:
    """The callback receiver for async security results (receiver.py): where it listens and
    the public URL that reaches it (a reverse proxy, a tunnel). Off when `listen` is empty."""

    listen: str = ""  # "HOST:PORT"
    public_url: str = ""


# What a [[notify.targets]] entry may ask to hear about (alerts.py writes each).
NOTIFY_EVENTS = ("account", "outage", "ledger", "failed", "digest", "caption")


@dataclass(frozen=True)
class NotifyTarget:
    """One Apprise URL (it carries the service's token: loaded like the API key) and the
    events it wants."""

    url: KeySource
    events: tuple[str, ...] = NOTIFY_EVENTS


@dataclass(frozen=True)
class NotifyConfig:
    targets: tuple[NotifyTarget, ...] = ()
    # An API outage is told once it has lasted this long (short blips are not news).
    outage_after_s: float = 900.0
    # The daily digest's local time, "HH:MM"; "" = no digest.
    digest_at: str = "08:00"
    # Security captions holding any of these words (whole words, any case) are told.
    caption_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthConfig:
    """A healthchecks.io / Uptime Kuma push URL pinged while healthy; `fail` (default: the
    ping URL with /fail added to its path) while paused or unable to write the ledger."""

    ping: KeySource = KeySource()
    fail: KeySource = KeySource()
    interval_s: float = 60.0


@dataclass(frozen=True)
class BandwidthConfig:
    # rclone's --bwlimit timetable, e.g. "08:00,2M 23:00,off" (timetable.py).
    limit: Timetable = Timetable()
    # Upload only inside these local-time windows, e.g. ("23:00-07:00",); () = always.
    windows: Windows = Windows()


@dataclass(frozen=True)
class FleetConfig:
    """Several boxes on one account (fleet/): the PostgreSQL database they share, this box's
    node name, and the database password, loaded like the API key. Off when `database` is ""."""

    database: str = ""  # postgresql://ROLE@HOST:PORT/DB, no password in it
    password: KeySource = KeySource(env="MAVI_FLEET_PASSWORD", credential="mavi-fleet-password")
    node: str = ""  # "" = the host name


@dataclass(frozen=True)
class WebConfig:
    """The status page and its JSON API (web/): where it listens ("" = off; a bare port
    listens on 127.0.0.1) and, for a listener beyond loopback, the password, loaded like
    the API key."""

    listen: str = ""  # "HOST:PORT"
    password: KeySource = KeySource(env="MAVI_WEB_PASSWORD", credential="mavi-web-password")


@dataclass(frozen=True)
class Config:
    api: ApiConfig = ApiConfig()
    uploads: UploadsConfig = UploadsConfig()
    ledger: LedgerConfig = LedgerConfig()
    metrics: MetricsConfig = MetricsConfig()
    folders: tuple[FolderConfig, ...] = ()
    receiver: ReceiverConfig = ReceiverConfig()
    notify: NotifyConfig = NotifyConfig()
    health: HealthConfig = HealthConfig()
    bandwidth: BandwidthConfig = BandwidthConfig()
    fleet: FleetConfig = FleetConfig()
    web: WebConfig = WebConfig()
    log_level: str = "info"
    # Where the config came from (for messages); None when built from a dict.
    source: Optional[Path] = None
    # Non-fatal remarks (e.g. a clear-text key in a readable file), shown by check-config.
    warnings: tuple[str, ...] = ()

    def folder_for(self, path: Path) -> Optional[FolderConfig]:
        """The folder whose tree holds `path` (deepest match), or None."""
        best: Optional[FolderConfig] = None
        for folder in self.folders:
            if _is_within(path, folder.path) and (best is None or _is_within(folder.path, best.path)):
                best = folder
        return best


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
