"""The command line as a whole: usage errors, help for every option, a reader that stops early."""

from __future__ import annotations

from pathlib import Path

from tests.commands.cli import run_offline


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_offline("scan", "--config", str(tmp_path / "x.toml")).returncode == 2  # --dry-run is required
    assert run_offline("frobnicate").returncode == 2



def test_every_option_of_every_command_has_help_text() -> None:
    """Issue 16: `mavi-sync COMMAND --help` explains every option and argument."""
    import argparse

    from mavi_sync.commands.parser import _parser

    parser = _parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [f"{name} {action.dest}" for name, command in sub.choices.items() for action in command._actions
               if not action.help and not isinstance(action, argparse._HelpAction)]
    missing += [a.dest for a in parser._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
    assert missing == [], missing



def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    """`mavi-sync inspect … | head`: no BrokenPipeError traceback, a clean exit."""
    import subprocess
    import sys

    from mavi_sync.dev.samples import ImageSpec, write_image

    photo = write_image(tmp_path / "a.jpg", ImageSpec(make="Canon"))
    proc = subprocess.Popen([sys.executable, "-m", "mavi_sync", "inspect", *[str(photo)] * 300],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == str(photo).encode()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(60) == 0 and err == "", err

