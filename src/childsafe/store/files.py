"""Owner-only files for anything that can hold children's data (exports, manifests, feedback sets).

A file created with ``open()`` gets the process umask, usually 0644: readable by every local account. These
helpers create the file with mode 0600 instead, and tighten a file that already exists before writing, so
a re-run never leaves new content in an old, wider file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

PRIVATE_MODE = 0o600


def open_private(path: str | Path, *, append: bool = False, encoding: str = "utf-8") -> TextIO:
    """Open ``path`` for writing text (truncated, or appended to), mode 0600; raises ``OSError`` like ``open``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), PRIVATE_MODE)
    try:
        if sys.platform != "win32":
            os.fchmod(fd, PRIVATE_MODE)  # O_CREAT's mode applies only to a new file
        return os.fdopen(fd, "a" if append else "w", encoding=encoding)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` as an owner-only file."""
    with open_private(path, encoding=encoding) as fh:
        fh.write(text)
