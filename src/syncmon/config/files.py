"""Reading a config file: a regular file only, never more than asked for."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_config_file(path: str | Path, limit: int) -> bytes:
    """At most `limit` bytes of a config (or rule test) file.

    Only a regular file is read: a FIFO would block `validate` forever waiting for a writer,
    a device such as /dev/zero never ends. Opened without blocking, then checked on the open
    descriptor, so nothing can be swapped in between. Raises OSError.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        kind = _file_kind(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if kind is not None:
        os.close(fd)
        reason = f"it is {kind}, not a regular file; give the path of a YAML file"
        raise OSError(errno.EINVAL, reason, str(path))
    with open(fd, "rb") as file:
        return file.read(limit)  # a huge file must not fill the memory


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    if stat.S_ISREG(mode):
        return None
    return next((word for test, word in kinds if test(mode)), "not a regular file")
