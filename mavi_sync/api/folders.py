"""memories.ai folders: list, create, move videos, delete; and a folder's id by its name,
made once for the account ([[folders]] server_folder).

The id of each name is kept in a book (the ledger: `server_folder`, `keep_server_folder`),
so a folder is listed or made once, not per upload. Several workers, or several nodes of a
fleet sharing one ledger, may want the same new folder at the same moment:

- the folder list is read first, and a name already there is taken;
- creating is tried once, never repeated blindly: a refusal (the documented "unique within
  your account") or a lost answer is followed by a new read of the list;
- the book keeps the first id recorded for a name; a node whose own new folder lost that
  race deletes it (it is empty: nothing was uploaded into it yet). So a server that
  enforces unique names and one that does not both end with one folder, used by everyone.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Protocol, TypeVar

from mavi_sync.api.transport import Transport
from mavi_sync.config.secrets import Secret
from mavi_sync.errors import AccountError, ApiError, TransientError
from mavi_sync.logs import get_logger

LIST = "/serve/api/v1/folders"
CREATE = "/serve/api/v1/folders/create"
MOVE = "/serve/api/v1/folders/move"
DELETE = "/serve/api/v1/folders/delete"
MOVE_MAX = 500  # video_nos per move request (OpenAPI maxItems)

T = TypeVar("T")
log = get_logger("mavi_sync.api.folders")


class FolderBook(Protocol):
    """Where each folder name's id is kept (the ledger)."""

    def server_folder(self, name: str) -> Optional[int]: ...

    def keep_server_folder(self, name: str, folder_id: int) -> int: ...

    def forget_server_folder(self, name: str, folder_id: int) -> None: ...


class MemoryBook:
    """A book that lives as long as the process (a client given no ledger)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def server_folder(self, name: str) -> Optional[int]:
        return self._ids.get(name)

    def keep_server_folder(self, name: str, folder_id: int) -> int:
        with self._lock:
            return self._ids.setdefault(name, folder_id)

    def forget_server_folder(self, name: str, folder_id: int) -> None:
        with self._lock:
            if self._ids.get(name) == folder_id:
                del self._ids[name]


def parse_folders(data: Any) -> list[tuple[str, int]]:
    """The list endpoint's `data.folders` → [(name, id)] (pure); items without both are left out."""
    items = ((data or {}).get("data") or {}).get("folders") if isinstance(data, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("folder_name"), str) and _is_id(item.get("folder_id")):
            out.append((item["folder_name"], int(item["folder_id"])))
    return out


def _is_id(value: Any) -> bool:
    if isinstance(value, str):
        return value.lstrip("-").isdigit()
    return isinstance(value, int) and not isinstance(value, bool)


class Folders:
    """The folder endpoints, and `id_of`: a name's folder, found or made once."""

    def __init__(self, transport: Transport, base_url: str, key: Callable[[], Secret], book: FolderBook,
                 call: Callable[[Callable[[], Any]], Any]) -> None:
        self._t, self._url, self._key, self.book, self._call = transport, base_url, key, book, call
        self._lock = threading.Lock()

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return self._t.request(method, self._url + path, dialect="v1", what=what, key=self._key(), **kwargs)

    def listed(self) -> dict[str, int]:
        """{name: id} of the account's folders; a name listed twice keeps its lowest id."""
        out: dict[str, int] = {}
        for name, folder_id in parse_folders(self._call(lambda: self._request("GET", LIST, "list of folders"))):
            out[name] = min(folder_id, out.get(name, folder_id))
        return out

    def id_of(self, name: str) -> int:
        """The id of the folder `name`: from the book, else found in the list or made, and
        recorded. Raises ApiError (AccountError, TransientError, PermanentError)."""
        known = self.book.server_folder(name)
        if known is not None:
            return known
        with self._lock:  # this process's workers: one of them looks, the others wait and read the book
            known = self.book.server_folder(name)
            if known is not None:
                return known
            found = self.listed().get(name)
            made = None
            if found is None:
                found, made = self._create(name)
            kept = self.book.keep_server_folder(name, found)
            if made is not None and kept != made:
                self._discard(name, made, kept)
            elif made is not None:
                log.info("server_folder_created", folder=name, folder_id=kept)
            return kept

    def gone(self, name: str, folder_id: int) -> bool:
        """Whether the folder kept for `name` is no longer on the account (deleted on the web):
        then it is forgotten, and the next `id_of` finds or makes it again."""
        if folder_id in self.listed().values():
            return False
        self.book.forget_server_folder(name, folder_id)
        log.warning("server_folder_gone", folder=name, folder_id=folder_id, hint="it is made again")
        return True

    def _create(self, name: str) -> tuple[int, Optional[int]]:
        """(id, id if this call made it): created once; a refusal or a lost answer is
        followed by a new look at the list, where another node's folder may be."""
        try:
            data = self._request("POST", CREATE, f"creation of folder {name!r}", form={"name": name})
        except AccountError:
            raise
        except ApiError as exc:
            found = self.listed().get(name)
            if found is None:
                raise exc from None
            return found, None
        item = (data or {}).get("data") if isinstance(data, dict) else None
        if not isinstance(item, dict) or not _is_id(item.get("folder_id")):
            found = self.listed().get(name)
            if found is None:
                raise TransientError(f"creation of folder {name!r}: the answer has no folder_id")
            return found, None
        return int(item["folder_id"]), int(item["folder_id"])

    def _discard(self, name: str, mine: int, kept: int) -> None:
        """Another node recorded its folder of this name first: ours is empty, delete it."""
        try:
            self.delete(mine)
            log.info("server_folder_duplicate_removed", folder=name, folder_id=mine, kept=kept)
        except ApiError as exc:
            log.warning("server_folder_duplicate_left", folder=name, folder_id=mine, kept=kept, error=str(exc),
                        hint="an empty folder of the same name is left on the account; delete it on the web")

    def move(self, folder_id: int, video_nos: list[str]) -> int:
        """Move videos into the folder, MOVE_MAX per request; returns how many were moved."""
        for i in range(0, len(video_nos), MOVE_MAX):
            chunk = video_nos[i:i + MOVE_MAX]
            self._call(lambda: self._request("POST", MOVE, f"move of {len(chunk)} video(s) to folder {folder_id}",
                                             json_body={"folder_id": folder_id, "video_nos": chunk}))
        return len(video_nos)

    def delete(self, folder_id: int) -> None:
        self._call(lambda: self._request("POST", DELETE, f"deletion of folder {folder_id}",
                                         form={"folder_id": str(folder_id)}))
