"""One status line kept at the bottom of a terminal while log lines scroll above it (`sync`).

Both go to the same terminal: a log line written over a half-drawn status line garbles
both. Everything goes through here instead: a log line clears the status line, is written
whole, and the status line is drawn again under it. Only used on a TTY; in a pipe or the
journal there is no status line at all.
"""

from __future__ import annotations

import shutil
import threading
from typing import TextIO

CLEAR = "\r\x1b[K"


class StatusLine:
    """A text stream for the logs (`write`) with a status line under them (`show`)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.line = ""
        self._partial = ""
        self._lock = threading.Lock()

    def show(self, text: str) -> None:
        """Draw `text` as the status line (cut to the terminal's width: it must stay one line)."""
        width = max(20, shutil.get_terminal_size().columns - 1)
        with self._lock:
            self.line = text[:width]
            self.stream.write(CLEAR + self.line)
            self.stream.flush()

    def write(self, text: str) -> int:
        """Log output: whole lines go above the status line; a partial one waits for its end."""
        with self._lock:
            self._partial += text
            if "\n" in self._partial:
                lines, self._partial = self._partial.rsplit("\n", 1)
                self.stream.write(CLEAR + lines + "\n" + self.line)
                self.stream.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()

    def isatty(self) -> bool:
        return True

    def close(self) -> None:
        """Leave the last status line in place and end it."""
        with self._lock:
            if self._partial:
                self.stream.write(CLEAR + self._partial + "\n" + self.line)
                self._partial = ""
            if self.line:
                self.stream.write("\n")
            self.stream.flush()
