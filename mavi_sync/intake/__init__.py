"""Finding files: folder walks (scanner), kernel or polled events (watcher), "is it
finished?" (settle), which names and directories count (filters), which file system a
folder is on (mounts), and `Intake`, which ties them to the engine's queue."""

from mavi_sync.intake.intake import Intake

__all__ = ["Intake"]
