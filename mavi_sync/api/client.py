"""The client the uploader uses: one call per target, retries, and idempotent video uploads.

Video idempotency: every video carries the tag `sha256:<hash>` (unless switched off).
When an attempt's outcome is unknown (the body went out, no answer came; or a crash
left the ledger saying `uploading`), the client asks list_videos for that tag and
adopts the videoNo it finds instead of sending the file a second time.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, TypeVar, Union

from mavi_sync.api import account, asset, image, search, security, video
from mavi_sync.api.body import Progress
from mavi_sync.api.folders import FolderBook, Folders, MemoryBook
from mavi_sync.api.model import DONE, RemoteStatus, UploadJob, UploadResult
from mavi_sync.api.retry import RetryPolicy, call
from mavi_sync.api.transport import Timeouts, Transport
from mavi_sync.config.schema import ApiConfig, Config, KeySource, UploadsConfig
from mavi_sync.config.secrets import Secret, resolve_key
from mavi_sync.logs import get_logger
from mavi_sync.errors import (AccountError, ApiError, FileChanged, MaviSyncError, PermanentError, SecretError,
                              TransientError, UnknownOutcome)
from mavi_sync.api.ratelimit import RateLimiter

ImageOutcome = Union[UploadResult, MaviSyncError]
T = TypeVar("T")
OnRetry = Callable[[int, float, BaseException], None]


def log_retry(attempt: int, wait: float, exc: BaseException) -> None:
    get_logger().info("request_retrying", attempt=attempt, wait_s=round(wait, 2), error=str(exc),
                      error_type=exc.__class__.__name__)


class KeyRing:
    """Resolves each key the first time it is needed (a box without security folders
    needs no security key) and keeps it as a Secret."""

    def __init__(self, api: KeySource, security: KeySource, environ: Optional[Mapping[str, str]] = None) -> None:
        self._sources = {"API key": api, "security API key": security}
        self._environ = environ
        self._keys: dict[str, Secret] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, api: Secret, security: Optional[Secret] = None) -> "KeyRing":
        ring = cls(KeySource(), KeySource())
        ring._keys["API key"] = api
        if security is not None:
            ring._keys["security API key"] = security
        return ring

    def get(self, name: str) -> Secret:
        """The key. A key that cannot be found is the account's problem, not the file's:
        AccountError("no_key") naming where it looked (the daemon pauses, no attempt counted)."""
        with self._lock:
            if name not in self._keys:
                try:
                    self._keys[name] = resolve_key(self._sources[name], name, self._environ)
                except SecretError as exc:
                    raise AccountError(str(exc), reason="no_key", hint=exc.hint) from None
            return self._keys[name]

    def forget(self) -> None:
        """Resolve every key again when next needed: a corrected key file is read at the next
        pause trial or reload, not only after a restart. Keys given as values stay."""
        with self._lock:
            if any(source != KeySource() for source in self._sources.values()):
                self._keys.clear()

    def revealed(self) -> list[str]:
        """The keys read so far, in clear: only to scrub them from texts that leave (courier.py)."""
        with self._lock:
            return [key.reveal() for key in self._keys.values()]

    def __repr__(self) -> str:
        return f"KeyRing({', '.join(self._keys)}: ***)"


@dataclass(frozen=True)
class ClientSettings:
    policy: RetryPolicy = RetryPolicy()
    image_batch_files: int = 10
    image_batch_bytes: int = 100 * 1000 * 1000


class Client:
    """Uploads to the four targets and reads remote statuses. Thread-safe; share one per account."""

    def __init__(self, api: ApiConfig, uploads: UploadsConfig, keys: KeyRing, *,
                 settings: ClientSettings = ClientSettings(), stop: Optional[threading.Event] = None,
                 on_retry: Optional[OnRetry] = None, limiters: Optional[tuple[Any, Any]] = None,
                 folders: Optional[FolderBook] = None) -> None:
        self.api = api
        self.keys = keys
        self.settings = settings
        self.stop = stop or threading.Event()
        self.on_retry = on_retry or log_retry
        # (upload, query) limiters: the account's budget, shared by a fleet's nodes (fleet/budget.py)
        # or this process's own. Neither takes a burst: a request that reaches the server later
        # than the next one (its connection was being set up) would otherwise find the burst
        # spent and be refused; paced one slot apart, each may arrive up to a slot late.
        upload, query = limiters or (RateLimiter(uploads.rate_limit_per_minute / 60.0),
                                     RateLimiter(uploads.query_rate_limit_per_second))
        self.transport = Transport(
            timeouts=Timeouts(uploads.connect_timeout_s, uploads.read_timeout_s),
            upload_limiter=upload, query_limiter=query,
            stop=self.stop, pool_size=max(8, uploads.concurrency * 2))
        # Server folders by name, their ids kept in `folders` (the ledger), else for this process.
        self.folders = Folders(self.transport, api.base_url, lambda: self.keys.get("API key"),
                               folders or MemoryBook(), self._call)

    @classmethod
    def from_config(cls, config: Config, *, keys: Optional[KeyRing] = None, stop: Optional[threading.Event] = None,
                    on_retry: Optional[OnRetry] = None, limiters: Optional[tuple[Any, Any]] = None,
                    folders: Optional[FolderBook] = None) -> "Client":
        u = config.uploads
        settings = ClientSettings(RetryPolicy(attempts=u.request_attempts, initial_s=u.request_retry_initial_s),
                                  image_batch_files=u.image_batch_files)
        keys = keys or KeyRing(config.api.key, config.api.security_key)
        return cls(config.api, u, keys, settings=settings, stop=stop, on_retry=on_retry, limiters=limiters,
                   folders=folders)

    def close(self) -> None:
        self.transport.close()

    def _call(self, fn: Callable[[], T]) -> T:
        return call(fn, self.settings.policy, stop=self.stop, on_retry=self.on_retry)

    # -- uploads ------------------------------------------------------------------------
    def upload(self, job: UploadJob, progress: Optional[Progress] = None) -> UploadResult:
        """Upload one file to its target. Raises TransientError (try later), AccountError
        (pause everything), PermanentError (refused), FileChanged (the file moved)."""
        if job.target == "video":
            return self._video(job, progress)
        if job.target == "image":
            outcome = self.upload_images([job], progress)[0]
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        if job.target == "security":
            try:
                key = self.keys.get("security API key")
                return self._call(lambda: security.upload(self.transport, self.api.security_base_url, key, job,
                                                          progress))
            except AccountError as exc:
                exc.key = "security API key"  # the account check cannot speak for it (pauses.py)
                raise
        if job.target == "asset":
            key = self.keys.get("API key")
            return self._call(lambda: asset.upload(self.transport, self.api.asset_base_url, key, job, progress))
        raise ValueError(f"unknown target {job.target!r}")

    def _video(self, job: UploadJob, progress: Optional[Progress]) -> UploadResult:
        key = self.keys.get("API key")
        tag = job.lookup_tag
        if job.maybe_sent and tag is not None:
            found = self.find_video(tag, job.namespace)
            if found:
                return UploadResult("video", found, "UNPARSE", final=False, adopted=True)
        if job.server_folder is None:
            return self._call(lambda: self._send_video(job, key, progress))
        folder_id = self.folders.id_of(job.server_folder)  # its folder's id, made once for the account
        try:
            return self._call(lambda: self._send_video(_into(job, folder_id), key, progress))
        except PermanentError:
            if not self.folders.gone(job.server_folder, folder_id):
                raise
        # The folder was deleted (on the web): it is made again, and the video sent there.
        folder_id = self.folders.id_of(job.server_folder)
        return self._call(lambda: self._send_video(_into(job, folder_id), key, progress))

    def _send_video(self, job: UploadJob, key: Secret, progress: Optional[Progress]) -> UploadResult:
        """One try; an unknown outcome is looked up by the video's tag before it is sent again."""
        try:
            return video.upload(self.transport, self.api.base_url, key, job, progress)
        except UnknownOutcome as exc:
            if job.lookup_tag is None:
                # Nothing to look up: sending again may duplicate (docs/design/reliability.md,
                # "What is guaranteed").
                raise
            found = self.find_video(job.lookup_tag, job.namespace)
            if found:
                return UploadResult("video", found, "UNPARSE", final=False, adopted=True)
            raise TransientError(f"{exc}; it is not on the server, so it is sent again") from None

    def find_video(self, tag: str, namespace: str) -> Optional[str]:
        """The videoNo of a video carrying `tag`, or None."""
        key = self.keys.get("API key")
        return self._call(lambda: video.find_by_tag(self.transport, self.api.base_url, key, tag, namespace))

    def upload_images(self, jobs: Sequence[UploadJob], progress: Optional[Progress] = None) -> list[ImageOutcome]:
        """Upload images in as few requests as their fields allow; one outcome per job, in order.
        Only AccountError is raised (it concerns every job); the rest are returned per job."""
        outcomes = dict(self.each_image(jobs, lambda indices: progress))
        return [outcomes[i] for i in range(len(jobs))]

    def each_image(self, jobs: Sequence[UploadJob],
                   progress_of: Callable[[list[int]], Optional[Progress]] = lambda indices: None,
                   ) -> Iterator[tuple[int, ImageOutcome]]:
        """(index, outcome) for each job, a request's as soon as its answer is in, while the
        next request still waits for its rate slot: the caller records them at once (a crash
        in between must not send again what the server already holds). `progress_of(indices)`
        is the progress hook of the request carrying those jobs. AccountError is raised (it
        concerns every job not yet answered); the rest come back per job."""
        key = self.keys.get("API key")
        good: list[tuple[int, UploadJob]] = []
        for i, job in enumerate(jobs):
            found = image.problems(job)
            if found:
                yield i, PermanentError(f"image {job.path.name} refused: " + "; ".join(found))
            else:
                good.append((i, job))
        s = self.settings
        index = {id(job): i for i, job in good}
        for batch in image.batches([job for _, job in good], s.image_batch_files, s.image_batch_bytes):
            yield from self._image_request(key, [(index[id(job)], job) for job in batch], progress_of)

    def _image_request(self, key: Secret, batch: list[tuple[int, UploadJob]],
                       progress_of: Callable[[list[int]], Optional[Progress]]) -> Iterator[tuple[int, ImageOutcome]]:
        indices, jobs = [i for i, _ in batch], [job for _, job in batch]
        try:
            results: list[ImageOutcome] = list(self._call(
                lambda: image.upload(self.transport, self.api.base_url, key, jobs, progress_of(indices))))
        except (FileChanged, PermanentError) as exc:
            if len(batch) == 1:
                yield indices[0], exc
                return
            # One image moved under us, or one bad image refuses the whole batch: send each
            # alone, so one does not hold up (or cost) the others.
            for one in batch:
                yield from self._image_request(key, [one], progress_of)
            return
        except TransientError as exc:
            results = [exc] * len(batch)
        yield from zip(indices, results)

    def check_account(self) -> None:
        """One cheap request with the API key (api/account.py), not repeated here: a pause's
        trial when no queued file makes one. Raises AccountError or TransientError."""
        key = self.keys.get("API key")
        account.check(self.transport, self.api.base_url, key)

    # -- the library: search and listing (find/) ------------------------------------------
    def search(self, query: str, kind: str = "clip", top_k: int = 20,
               folder_id: Optional[int] = None) -> list[search.Hit]:
        """The private library's hits for `query` (api/search.py)."""
        key = self.keys.get("API key")
        return self._call(lambda: search.search(self.transport, self.api.base_url, key, query, kind, top_k,
                                                folder_id))

    def list_videos(self, namespace: str, page: int, size: int, **filters: Any) -> video.Page:
        """One page of the account's videos in `namespace` (api/video.py)."""
        key = self.keys.get("API key")
        return self._call(lambda: video.list_page(self.transport, self.api.base_url, key, namespace, page, size,
                                                  **filters))

    # -- status -------------------------------------------------------------------------
    def status(self, target: str, remote_id: str, namespace: str = "default") -> RemoteStatus:
        """Where the server is with an uploaded file. Image ids and security results are final."""
        if target == "video":
            key = self.keys.get("API key")
            return self._call(lambda: video.status(self.transport, self.api.base_url, key, remote_id, namespace))
        if target == "asset":
            key = self.keys.get("API key")
            return self._call(lambda: asset.status(self.transport, self.api.asset_base_url, key, remote_id))
        return RemoteStatus(DONE, "DONE")


def _into(job: UploadJob, folder_id: int) -> UploadJob:
    return dataclasses.replace(job, form={**job.form, "folder_id": str(folder_id)})


__all__ = ["ApiError", "Client", "ClientSettings", "KeyRing"]
