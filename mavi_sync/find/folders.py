"""`mavi-sync folders [--move]`: the memories.ai folders the config's `server_folder`
templates name, those made so far (the ledger) and those on the account; `--move` puts the
videos uploaded before (into the default folder, or under another template) into the
folder their template names now. Uploads are never moved otherwise.

A video's folder name is made from its file as at upload (media/fields.py): so a video is
moved only while a watched path still holds its file; the others are counted, left alone.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from mavi_sync.api.client import Client
from mavi_sync.config.schema import Config
from mavi_sync.ledger.store import Ledger
from mavi_sync.media.prober import Prober, probe_here
from mavi_sync.pipeline.plan import plan_file
from mavi_sync.ledger.states import State


@dataclass
class Moves:
    by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # folder name → video_nos
    no_file: int = 0  # confirmed videos whose file no watched path holds: their folder cannot be named
    unnamed: list[str] = field(default_factory=list)  # why a file's folder name is invalid

    @property
    def videos(self) -> int:
        return sum(len(v) for v in self.by_name.values())


def plan_moves(config: Config, ledger: Ledger, probe: Prober = probe_here) -> Moves:
    """Where each confirmed video of a folder with a server_folder template belongs."""
    moves = Moves()
    for record in ledger.files(state=State.CONFIRMED, target="video", limit=10_000_000):
        raw = ledger.path_of(record.id)
        path = Path(os.fsdecode(raw)) if raw is not None else None
        folder = config.folder_for(path) if path is not None else None
        if folder is None or not folder.server_folder or record.remote_id is None:
            continue
        if path is None or not path.is_file():
            moves.no_file += 1
            continue
        plan = plan_file(path, folder, sha256=record.sha256, info=probe(os.fspath(path)))
        fields = plan.targets["video"].fields
        if fields is None or fields.server_folder is None:
            moves.unnamed.append(f"{path}: {plan.targets['video'].verdict.reason}")
            continue
        moves.by_name[fields.server_folder].append(record.remote_id)
    return moves


def apply_moves(client: Client, moves: Moves) -> int:
    """Move each group into its folder (made if needed); returns how many videos were moved."""
    return sum(client.folders.move(client.folders.id_of(name), nos) for name, nos in sorted(moves.by_name.items()))


def listing(config: Config, ledger: Ledger, client: Client) -> list[str]:
    """What `mavi-sync folders` prints: templates, folders made, folders on the account."""
    lines = [f"{f.path}: server_folder = {f.server_folder!r}" for f in config.folders if f.server_folder]
    if not lines:
        lines.append("no [[folders]] entry has a server_folder template")
    made = ledger.server_folders()
    lines += [f"  made: {name} (id {folder_id})" for name, folder_id in made.items()]
    account = client.folders.listed()
    lines.append("on the account: " + (", ".join(f"{n} ({i})" for n, i in sorted(account.items())) or "none"))
    return lines
