"""`mavi-sync emulator`: a local memories.ai for tests and the demo. Its flags and its run
belong to emulator/command.py; this names the command."""

from __future__ import annotations

import argparse

from mavi_sync.emulator.command import add_emulator_arguments, run_emulator


def add(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("emulator", help="run a local memories.ai emulator (for tests and the demo)")
    add_emulator_arguments(p)
    p.set_defaults(run=run_emulator)
