"""A reader that goes away (`syncmon check | head -c1`) ends our output, not the command.

Python raises BrokenPipeError at the next write or flush to a pipe nobody reads; unhandled,
it turns `check`'s exit code, which Nagios and scripts act on, into a traceback and 3.
After the first EPIPE the guard points file descriptor 1 at /dev/null (as the Python docs
advise), so the command finishes its work and exits with its own code.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO, cast


class _ClosedPipeGuard:
    """Delegates to the real stdout; a broken pipe silences it instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        self.broken = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Install the guard on `sys.stdout` (idempotent)."""
    if not isinstance(sys.stdout, _ClosedPipeGuard) and sys.stdout is not None:
        sys.stdout = cast(TextIO, _ClosedPipeGuard(sys.stdout))
