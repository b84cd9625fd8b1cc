"""What the client sends for the v1 operations, checked against the vendor's OpenAPI copy.

The requests are captured at the emulator (real HTTP), then every field is checked
for its name, type, limits and the required ones. Fields the vendor's own pages
document but the OpenAPI copy lacks are listed with their source.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from mavi_sync.api.client import Client, KeyRing
from mavi_sync.config.parse import build_config
from mavi_sync.config.secrets import Secret
from mavi_sync.emulator.admin import Admin
from mavi_sync.pipeline.hashing import sha256_file
from mavi_sync.pipeline.plan import job_for, plan_file
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.conftest import API_KEY, REPO, SECURITY_KEY, api_table, fast_uploads

SPEC = Path(os.environ.get("MAVI_API_DOCS", REPO.parent / "shared" / "api")) / "memories-platform-openapi.json"

# Documented on the vendor's pages (../shared/api/*.txt and ../shared/api/README.md) but not in the OpenAPI copy.
DOCUMENTED_EXTRAS = {
    "upload_video_from_file": {"unique_id": {"type": "string"}},  # v1-upload-video.txt "Request Parameters"
    "upload_image_from_file": {"unique_id": {"type": "string"}},  # v1-upload-image.txt "Request Parameters"
    "list_videos": {"unique_id": {"type": "string"}},  # ../shared/api/README.md: list_videos takes unique_id
    "get_video_metadata": {"unique_id": {"type": "string"}},  # get_metadata?video_no=…&unique_id=…
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"the vendor's OpenAPI copy is not at {SPEC} (it lives in ../shared/api beside the repo)")
    return dict(json.loads(SPEC.read_text(encoding="utf-8")))


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return dict(spec["paths"][path][method])


def body_schema(spec: dict[str, Any], op: dict[str, Any], media: str) -> dict[str, Any]:
    ref = op["requestBody"]["content"][media]["schema"]["$ref"]
    return dict(spec["components"]["schemas"][ref.rsplit("/", 1)[1]])


def type_problems(name: str, values: list[Any], schema: dict[str, Any], from_form: bool) -> list[str]:
    """Why `values` (all the values sent for field `name`) do not fit `schema`."""
    kind = schema.get("type")
    if kind == "array":
        if "maxItems" in schema and len(values) > schema["maxItems"]:
            return [f"{name}: {len(values)} items, at most {schema['maxItems']}"]
        return [p for v in values for p in type_problems(name, [v], schema["items"], from_form)]
    if len(values) != 1:
        return [f"{name}: sent {len(values)} times but is not an array"]
    value = values[0]
    problems = []
    if kind == "string" and schema.get("format") != "binary":
        if not isinstance(value, str):
            problems.append(f"{name}: {value!r} is not a string")
        elif "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{name}: longer than {schema['maxLength']}")
    elif kind in ("number", "integer"):
        try:
            number = float(value) if from_form else value
            ok = isinstance(number, (int, float)) and (kind == "number" or float(number).is_integer())
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{name}: {value!r} is not a JSON {kind}")
    elif kind == "boolean" and (value not in ("true", "false") if from_form else not isinstance(value, bool)):
        problems.append(f"{name}: {value!r} is not a boolean")
    return problems


def check(schema: dict[str, Any], sent: dict[str, list[Any]], extras: dict[str, Any], from_form: bool) -> list[str]:
    properties = {**schema.get("properties", {}), **extras}
    problems = [f"{name}: not in the schema" for name in sent if name not in properties]
    problems += [f"{name}: required but not sent" for name in schema.get("required", []) if name not in sent]
    for name, values in sent.items():
        if name in properties:
            problems += type_problems(name, values, properties[name], from_form)
    return problems


def form_sent(entry: dict[str, Any]) -> dict[str, list[Any]]:
    sent = {name: list(values) for name, values in entry["fields"].items()}
    for f in entry["files"]:
        sent.setdefault(f["field"], []).append("<binary>")
    return sent


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    """Every request the client makes for a fully-described video and two images."""
    from mavi_sync.emulator.app import Settings
    from mavi_sync.emulator.runner import EmulatorServer
    root = tmp_path_factory.mktemp("openapi")
    with EmulatorServer(root / "emulator", Settings(api_key=API_KEY, security_key=SECURITY_KEY)) as emulator:
        yield _capture(emulator.url, root / "cam")


def _capture(url: str, folder: Path) -> list[dict[str, Any]]:
    folder.mkdir()
    # A positive folder_id must belong to the account (OpenAPI, UploadVideoRequest.folder_id).
    made = requests.post(url + "/serve/api/v1/folders/create", data={"name": "openapi"},
                         headers={"Authorization": API_KEY}, timeout=5).json()["data"]["folder_id"]
    config = build_config({"api": api_table(url), "uploads": fast_uploads(read_timeout_s=0.5),
                           "folders": [{"path": str(folder), "tags": ["t1", "t2"], "camera_model": "Fixed Cam",
                                        "latitude": 52.52, "longitude": 13.405, "folder_id": made,
                                        "callback": "https://example.org/cb", "retain_original_video": False,
                                        "video_transcription_prompt": "Focus on people.", "unique_id": "cam1"}]})
    client = Client.from_config(config, keys=KeyRing.of(Secret(API_KEY, "t"), Secret(SECURITY_KEY, "t")))
    paths = [write_video(folder / "v.mp4", VideoSpec(creation_time="2025-10-20T09:00:00.000000Z")),
             write_image(folder / "a.jpg", ImageSpec(taken="2024:01:01 10:00:00")),
             write_image(folder / "b.jpg", ImageSpec(taken="2024:01:01 10:00:00", color=(1, 1, 1)))]
    jobs = [job_for(plan_file(p, config.folders[0], sha256=sha256_file(p)), os.stat(p)) for p in paths]
    Admin(url).script({"path": "/serve/api/v1/upload", "action": "hang"})  # → list_videos lookup
    video = client.upload(jobs[0])
    client.upload_images(jobs[1:])
    client.status("video", video.remote_id, "cam1")
    client.close()
    log = Admin(url).stats()["log"]
    assert {e["path"] for e in log} >= {"/serve/api/v1/upload", "/serve/api/v1/upload_img",
                                       "/serve/api/v1/list_videos", "/serve/api/v1/get_metadata"}
    return list(log)


def test_video_upload_matches_the_openapi_schema(spec, captured) -> None:
    schema = body_schema(spec, operation(spec, "/serve/api/v1/upload", "post"), "multipart/form-data")
    [entry] = [e for e in captured if e["path"] == "/serve/api/v1/upload"]
    sent = form_sent(entry)
    assert check(schema, sent, DOCUMENTED_EXTRAS["upload_video_from_file"], from_form=True) == []
    assert set(sent) == {"file", "unique_id", "datetime_taken", "camera_model", "latitude", "longitude", "tags",
                         "callback", "retain_original_video", "video_transcription_prompt", "folder_id"}
    assert entry["files"][0]["content_type"].startswith("video/")


def test_image_upload_matches_the_openapi_schema(spec, captured) -> None:
    schema = body_schema(spec, operation(spec, "/serve/api/v1/upload_img", "post"), "multipart/form-data")
    [entry] = [e for e in captured if e["path"] == "/serve/api/v1/upload_img"]
    sent = form_sent(entry)
    assert check(schema, sent, DOCUMENTED_EXTRAS["upload_image_from_file"], from_form=True) == []
    assert len(sent["files"]) == 2 and all(f["content_type"].startswith("image/") for f in entry["files"])


def test_list_videos_matches_the_openapi_schema(spec, captured) -> None:
    schema = body_schema(spec, operation(spec, "/serve/api/v1/list_videos", "post"), "application/json")
    [entry] = [e for e in captured if e["path"] == "/serve/api/v1/list_videos"]
    sent = {k: [v] for k, v in entry["json"].items()}
    assert check(schema, sent, DOCUMENTED_EXTRAS["list_videos"], from_form=False) == []
    assert entry["json"]["tag"].startswith("sha256:") and entry["content_type"] == "application/json"


def test_get_metadata_matches_the_openapi_parameters(spec, captured) -> None:
    op = operation(spec, "/serve/api/v1/get_metadata", "get")
    [entry] = [e for e in captured if e["path"] == "/serve/api/v1/get_metadata"]
    params = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
    allowed = set(params) | set(DOCUMENTED_EXTRAS["get_video_metadata"])
    assert set(entry["query"]) <= allowed
    assert all(name in entry["query"] for name, p in params.items() if p.get("required"))


def test_the_checker_itself_catches_mistakes(spec) -> None:
    """A checker that never fails proves nothing: feed it wrong requests."""
    schema = body_schema(spec, operation(spec, "/serve/api/v1/upload", "post"), "multipart/form-data")
    assert check(schema, {"unique_id": ["x"]}, {}, True) == ["unique_id: not in the schema",
                                                             "file: required but not sent"]
    assert check(schema, {"file": ["<binary>"], "lat": ["1"]}, {}, True) == ["lat: not in the schema"]
    assert check(schema, {"file": ["<binary>"], "latitude": ["north"]}, {}, True)
    assert check(schema, {"file": ["<binary>"], "folder_id": ["1.5"]}, {}, True)
    assert check(schema, {"file": ["<binary>"], "retain_original_video": ["yes"]}, {}, True)
    assert check(schema, {"file": ["<binary>"], "tags": [str(i) for i in range(21)]}, {}, True)
    assert check(schema, {"file": ["<binary>"], "camera_model": ["x" * 201]}, {}, True)
    assert check(schema, {"file": ["<binary>"], "callback": ["a", "b"]}, {}, True)
