"""Opening input files: only regular files are ever read.

A FIFO, a character device (``/dev/zero``) or a socket can block an ``open`` or never reach end of file;
dcmspec refuses them instead of reading. The check is made on the open descriptor (``fstat``), so a
file swapped for a FIFO between a check and the read is refused too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import io


class NotARegularFile(OSError):
    """The path exists but is a FIFO, device, socket or folder, not a regular file."""


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` (symbolic links followed) is a regular file."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def open_regular(path: str | os.PathLike[str]) -> io.BufferedReader:
    """Open ``path`` for binary reading if it is a regular file; :class:`NotARegularFile` otherwise.

    The open is non-blocking, so opening a FIFO without a writer returns at once instead of waiting.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(f"{Path(path)} is not a regular file ({_kind(mode)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def file_kind(path: str | os.PathLike[str]) -> str:
    """What ``path`` is, for messages: "a FIFO", "a folder", "missing"..."""
    try:
        return _kind(os.stat(path).st_mode)
    except OSError:
        return "missing"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"
