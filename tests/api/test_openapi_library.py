"""What the client sends for search, folders and the listing `check` and `recover` read,
checked against the vendor's OpenAPI copy (requests captured at the emulator, real HTTP);
and the emulator's answers to them, against the documented response shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from mavi_sync.find.check import check as check_ledger
from mavi_sync.find.folders import apply_moves, plan_moves
from mavi_sync.find.search import Query, search
from tests.api.test_openapi import DOCUMENTED_EXTRAS, body_schema, check, operation, spec  # noqa: F401
from tests.conftest import API_KEY
from tests.find.rig import Box


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    from mavi_sync.emulator.admin import Admin
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    from tests.conftest import fast_timing
    root = tmp_path_factory.mktemp("openapi-library")
    with EmulatorServer(root / "emulator", Settings(api_key=API_KEY, timing=fast_timing())) as emulator:
        admin = Admin(emulator.url)
        before = Box(emulator.url, root / "before")
        sent = before.send(before.video("a.mp4"))  # into the default folder
        box = Box(emulator.url, root / "before", server_folder="{folder}/{yyyy}-{mm}")
        before.close()
        box.send(box.video("b.mp4", seconds=0.5))  # GET /folders, then POST folders/create
        admin.segments(sent.remote_id, {"start": 1, "end": 2, "text": "van", "kind": "audio"})
        for kind in ("clip", "audio", "caption"):
            list(search(box.client, box.ledger, Query("van", kind=kind, limit=5, server_folder="cam/2024-05")))
        check_ledger(box.ledger, box.client, ["default"], page_size=1)
        apply_moves(box.client, plan_moves(box.config, box.ledger))  # POST folders/move
        box.client.folders.delete(box.client.folders.id_of("spare"))
        box.close()
        yield emulator.url, list(admin.stats()["log"])


def entries(captured: tuple[str, list[dict[str, Any]]], path: str) -> list[dict[str, Any]]:
    found = [e for e in captured[1] if e["path"] == path]
    assert found, f"no request to {path}"
    return found


def inline_schema(spec: dict[str, Any], path: str, media: str) -> dict[str, Any]:  # noqa: F811
    return dict(spec["paths"][path]["post"]["requestBody"]["content"][media]["schema"])


def test_search_requests_match_the_openapi_schema(spec, captured) -> None:  # noqa: F811
    schema = body_schema(spec, operation(spec, "/serve/api/v1/search", "post"), "application/json")
    found = entries(captured, "/serve/api/v1/search")
    assert {e["json"]["search_type"] for e in found} == {"BY_CLIP", "BY_AUDIO", "BY_CAPTION"}
    for entry in found:
        assert check(schema, {k: [v] for k, v in entry["json"].items()}, {}, from_form=False) == []
        assert isinstance(entry["json"]["folder_id"], int) and entry["content_type"] == "application/json"


def test_folder_requests_match_the_openapi_schemas(spec, captured) -> None:  # noqa: F811
    for path, media in (("/serve/api/v1/folders/create", "application/x-www-form-urlencoded"),
                        ("/serve/api/v1/folders/delete", "application/x-www-form-urlencoded"),
                        ("/serve/api/v1/folders/move", "application/json")):
        schema = inline_schema(spec, path, media)
        for entry in entries(captured, path):
            body = entry["json"] if media == "application/json" else entry["form"]
            from_form = media != "application/json"
            sent = {k: v if isinstance(v, list) and not from_form else [v] for k, v in body.items()}
            assert check(schema, sent, {}, from_form=from_form) == [], path
            assert entry["content_type"] == media
    assert all(e["query"] == {} for e in entries(captured, "/serve/api/v1/folders"))


def test_listing_pages_match_the_openapi_schema(spec, captured) -> None:  # noqa: F811
    schema = body_schema(spec, operation(spec, "/serve/api/v1/list_videos", "post"), "application/json")
    pages = [e for e in entries(captured, "/serve/api/v1/list_videos") if "page" in e["json"] and "tag" not in e["json"]]
    assert [e["json"]["page"] for e in pages] == [1, 2]
    for entry in pages:
        assert check(schema, {k: [v] for k, v in entry["json"].items()}, DOCUMENTED_EXTRAS["list_videos"],
                     from_form=False) == []


def shape_problems(item: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    kinds = {"string": str, "number": (int, float), "integer": int, "array": list, "boolean": bool, "object": dict}
    props = schema["properties"]
    out = [f"{k}: not documented" for k in item if k not in props]
    return out + [f"{k}: not a {props[k]['type']}" for k, v in item.items()
                  if k in props and not isinstance(v, kinds[props[k]["type"]])]


def test_the_emulators_answers_have_the_documented_shapes(spec, captured) -> None:  # noqa: F811
    url, headers = captured[0], {"Authorization": API_KEY}
    shapes = spec["components"]["schemas"]["SearchPrivateResponse"]["properties"]["data"]["oneOf"]
    for kind, shape in (("BY_CLIP", shapes[0]), ("BY_AUDIO", shapes[0]), ("BY_CAPTION", shapes[2])):
        hits = requests.post(url + "/serve/api/v1/search", headers=headers, timeout=5,
                             json={"search_param": "van a", "search_type": kind}).json()["data"]
        assert hits and all(shape_problems(h, shape["items"]) == [] for h in hits), kind
    videos = spec["components"]["schemas"]["ListVideosResponse"]["properties"]["data"]["properties"]["videos"]
    listed = requests.post(url + "/serve/api/v1/list_videos", headers=headers, json={}, timeout=5).json()["data"]
    assert all(shape_problems(v, videos["items"]) == [] for v in listed["videos"])
    folder = spec["components"]["schemas"]["FolderItem"]
    folders = requests.get(url + "/serve/api/v1/folders", headers=headers, timeout=5).json()["data"]["folders"]
    assert all(shape_problems(f, folder) == [] for f in folders)


def test_the_shape_checker_catches_mistakes(spec) -> None:  # noqa: F811
    item = spec["components"]["schemas"]["SearchPrivateResponse"]["properties"]["data"]["oneOf"][0]["items"]
    assert shape_problems({"videoNo": "VI1", "startTime": 13}, item) == ["startTime: not a string"]
    assert shape_problems({"video_no": "VI1"}, item) == ["video_no: not documented"]
