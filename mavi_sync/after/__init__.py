"""After the remote side holds a file: the folder's after-upload action (archive, delete),
kept in the ledger as a duty until it is done (duties.py, its one owner), the moves
themselves (move.py), and captions written beside the clip where it is now."""

from mavi_sync.after.duties import AfterUpload

__all__ = ["AfterUpload"]
