"""[[folders]] server_folder (a template naming each video's memories.ai folder) and the
[ledger] copy settings: what is accepted, and every problem named with key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from mavi_sync.config import build_config
from mavi_sync.config.parse import folder_name_problem
from mavi_sync.dev.samples import VideoSpec, write_video
from mavi_sync.errors import ConfigError
from mavi_sync.pipeline.plan import job_for, plan_file


def problems(folder: dict[str, object], ledger: dict[str, object] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        build_config({"folders": [{"path": "/srv/cam", **folder}], "ledger": ledger or {}})
    return [str(p) for p in info.value.problems]


def test_a_template_and_copies_are_read() -> None:
    config = build_config({"folders": [{"path": "/srv/cam", "server_folder": "{folder}/{yyyy}-{mm}",
                                        "tag_templates": ["{yyyy}{mm}{dd}"]}],
                           "ledger": {"backup_dir": "/mnt/usb/mavi", "backup_interval_s": 3600, "backup_keep": 3}})
    assert config.folders[0].server_folder == "{folder}/{yyyy}-{mm}" and config.folders[0].folder_id is None
    assert (config.ledger.backup_dir, config.ledger.backup_interval_s, config.ledger.backup_keep) == \
        (Path("/mnt/usb/mavi"), 3600, 3)
    assert build_config({"folders": [{"path": "/srv/cam"}]}).ledger.backup_dir is None  # off unless set


@pytest.mark.parametrize("folder,expected", [
    ({"server_folder": "{camera}"}, "folders[0].server_folder = '{camera}': placeholders among {rel_dir}"),
    ({"server_folder": "{folder"}, "folders[0].server_folder = '{folder': a valid template"),
    ({"server_folder": "x" * 101 + "{dd}"}, "a folder name of at most 100 characters"),
    ({"server_folder": "{folder}", "folder_id": 5}, "folders[0].folder_id = 5: no folder_id beside server_folder"),
])
def test_a_template_that_cannot_name_a_folder_is_a_config_problem(folder: dict[str, object], expected: str) -> None:
    assert any(expected in p for p in problems(folder))


def test_copy_settings_are_checked() -> None:
    found = problems({}, {"backup_interval_s": 10, "backup_keep": 0})
    assert any(p.startswith("ledger.backup_interval_s = 10") for p in found)
    assert any(p.startswith("ledger.backup_keep = 0") for p in found)


def test_a_rendered_name_is_checked_as_the_api_takes_it() -> None:
    assert folder_name_problem("cam/2024-05") is None
    assert folder_name_problem("") == "it is empty"
    assert folder_name_problem("a" * 101) == "it is 101 characters long, the API takes at most 100"
    assert folder_name_problem("a\x07b") == "it holds control characters"


def test_the_plan_names_the_folder_and_refuses_a_file_whose_name_is_invalid(tmp_path: Path) -> None:
    config = build_config({"folders": [{"path": str(tmp_path), "server_folder": "{folder}/{dir}/{yyyy}-{mm}"}]})
    good = write_video(tmp_path / "front" / "a.mp4", VideoSpec(creation_time="2024-05-01T10:00:00.000000Z"))
    plan = plan_file(good, config.folders[0], sha256="0" * 64)
    assert plan.chosen.accepted and job_for(plan, good.stat()).server_folder == f"{tmp_path.name}/front/2024-05"
    odd = write_video(tmp_path / "bell\x07" / "b.mp4", VideoSpec(creation_time="2024-05-01T10:00:00.000000Z"))
    refused = plan_file(odd, config.folders[0], sha256="1" * 64)
    assert not refused.chosen.accepted and refused.chosen.target == "video"
    assert refused.chosen.reason.endswith("it holds control characters")
