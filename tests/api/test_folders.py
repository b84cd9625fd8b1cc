"""Server folders by template ([[folders]] server_folder): made once through the documented
endpoints, their ids kept in the ledger, one folder when two nodes make it at once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator, Optional

import pytest
import requests

from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State
from mavi_sync.pipeline.uploader import upload_path
from tests.conftest import API_KEY
from tests.find.rig import Box

TEMPLATE = "{folder}/{yyyy}-{mm}"


@pytest.fixture
def box(emulator, tmp_path: Path) -> Iterator[Box]:  # type: ignore[no-untyped-def]
    b = Box(emulator.url, tmp_path, server_folder=TEMPLATE)
    yield b
    b.close()


def requests_to(admin, path: str) -> int:  # type: ignore[no-untyped-def]
    return int(admin.stats()["requests"].get(path, 0))


def test_a_folder_is_made_once_and_its_id_goes_on_every_upload(box: Box, admin) -> None:
    may = [box.send(box.video(f"may{i}.mp4", seconds=0.3 + i / 10, when=f"2024-05-0{i + 1}T10:00:00"))
           for i in range(3)]
    june = box.send(box.video("june.mp4", when="2024-06-01T10:00:00"))
    made = box.ledger.server_folders()
    assert set(made) == {"cam/2024-05", "cam/2024-06"}
    assert requests_to(admin, "/serve/api/v1/folders/create") == 2
    placed = admin.folders()["placed"]
    assert {placed[r.remote_id] for r in may} == {made["cam/2024-05"]} and placed[june.remote_id] == made["cam/2024-06"]
    sent = {u["id"]: u["fields"]["folder_id"] for u in admin.uploads("video")}
    assert sent[june.remote_id] == [str(made["cam/2024-06"])]


def test_a_folder_already_on_the_account_is_taken(box: Box, admin) -> None:
    there = requests.post(box.url + "/serve/api/v1/folders/create", data={"name": "cam/2024-05"},
                          headers={"Authorization": API_KEY}, timeout=5).json()["data"]["folder_id"]
    box.send(box.video("a.mp4"))
    assert box.ledger.server_folders() == {"cam/2024-05": there}
    assert requests_to(admin, "/serve/api/v1/folders/create") == 1  # the test's own


class Meeting:
    """Two nodes' books over one ledger file: each looks in it, then both go on together."""

    def __init__(self, ledger: Ledger, barrier: threading.Barrier) -> None:
        self.ledger, self.barrier, self.looks = ledger, barrier, 0

    def server_folder(self, name: str) -> Optional[int]:
        found = self.ledger.server_folder(name)
        self.looks += 1
        if self.looks == 2:  # the look under the lock, right before the listing: meet the other node
            self.barrier.wait(10)
        return found

    def keep_server_folder(self, name: str, folder_id: int) -> int:
        return self.ledger.keep_server_folder(name, folder_id)


@pytest.mark.parametrize("unique", [True, False], ids=["strict server", "lax server"])
def test_two_nodes_making_the_same_folder_at_once_end_with_one(box: Box, admin, unique: bool) -> None:
    admin.faults(folders_unique=unique)
    admin.script({"path": "/serve/api/v1/folders/create", "action": "latency", "value": 0.5, "count": 2})
    barrier = threading.Barrier(2)
    ledgers = [Ledger(box.ledger_path) for _ in range(2)]  # two nodes, one ledger (a fleet's database)
    clients = [box.new_client(ledger) for ledger in ledgers]
    for client, ledger in zip(clients, ledgers):
        client.folders.book = Meeting(ledger, barrier)
    got: list[int] = []
    threads = [threading.Thread(target=lambda c=c: got.append(c.folders.id_of("cam/2024-05"))) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for c, ledger in zip(clients, ledgers):
        c.close()
        ledger.close()
    named = [i for i, name in admin.folders()["folders"].items() if name == "cam/2024-05"]
    assert requests_to(admin, "/serve/api/v1/folders/create") == 2  # both tried: the race happened
    assert len(got) == 2 and got[0] == got[1] and named == [str(got[0])]
    assert box.ledger.server_folders() == {"cam/2024-05": got[0]}
    assert requests_to(admin, "/serve/api/v1/folders/delete") == (0 if unique else 1)  # the loser's, emptied


def test_a_template_that_gives_an_invalid_name_refuses_the_file_and_says_why(emulator, admin, tmp_path: Path) -> None:
    box = Box(emulator.url, tmp_path, server_folder="{camera_model}")
    try:
        outcome = upload_path(box.video("a.mp4"), box.folder, box.config, box.ledger, box.client)
        long = Box(emulator.url, tmp_path / "long", server_folder="x" * 90 + "/{rel_dir}")
        deep = long.video("cameras/front-door/2024/05/a.mp4")
        too_long = upload_path(deep, long.folder, long.config, long.ledger, long.client)
        long.close()
    finally:
        box.close()
    assert outcome.state is State.REJECTED
    assert outcome.detail == "server_folder '{camera_model}' gives '': it is empty"
    assert too_long.state is State.REJECTED and "the API takes at most 100" in too_long.detail
    assert admin.stats()["total_requests"] == 0  # refused here: nothing was asked


def test_a_folder_the_server_refuses_refuses_the_file(box: Box, admin) -> None:
    admin.script({"path": "/serve/api/v1/folders/create", "action": "refuse"})
    outcome = upload_path(box.video("a.mp4"), box.folder, box.config, box.ledger, box.client)
    assert outcome.state is State.REJECTED and "refused (0003) refused by the service" in outcome.detail
    assert admin.uploads("video") == [] and box.ledger.server_folders() == {}


def test_existing_uploads_move_only_when_asked(emulator, admin, tmp_path: Path) -> None:
    before = Box(emulator.url, tmp_path)  # no server_folder yet: the account's default folder
    record = before.send(before.video("a.mp4"))
    before.close()
    box = Box(emulator.url, tmp_path, server_folder=TEMPLATE)
    try:
        listing = box.cli("folders")
        assert listing.returncode == 0 and f"{box.cam}: server_folder = '{TEMPLATE}'" in listing.stdout
        assert admin.folders()["placed"][record.remote_id] == -1  # not moved by looking
        moved = box.cli("folders", "--move")
        assert moved.returncode == 0 and moved.stdout.startswith("moved 1 video(s) into 1 folder(s)")
        folder_id = box.ledger.server_folders()["cam/2024-05"]
        assert admin.folders()["placed"][record.remote_id] == folder_id
    finally:
        box.close()


def test_a_folder_deleted_on_the_web_is_made_again(box: Box, admin) -> None:
    first = box.send(box.video("a.mp4"))
    old = box.ledger.server_folders()["cam/2024-05"]
    requests.post(box.url + "/serve/api/v1/folders/move", json={"folder_id": -1, "video_nos": [first.remote_id]},
                  headers={"Authorization": API_KEY}, timeout=5)
    requests.post(box.url + "/serve/api/v1/folders/delete", data={"folder_id": old}, headers={"Authorization": API_KEY},
                  timeout=5)  # emptied and deleted by hand
    second = box.send(box.video("b.mp4", seconds=0.5))
    new = box.ledger.server_folders()["cam/2024-05"]
    assert new != old and admin.folders()["placed"][second.remote_id] == new
    assert admin.folders()["folders"] == {str(new): "cam/2024-05"}
