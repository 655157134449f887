"""Process exit codes: the Nagios plugin convention, shared by every command (an API)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a syncmon process tells its caller; scripts and Nagios depend on these numbers."""

    OK = 0
    """Every rule evaluated and none fires (or: the command did what it was asked)."""
    WARNING = 1
    """A warning rule fires (`syncmon test`: a case failed)."""
    CRITICAL = 2
    """A critical rule fires."""
    UNKNOWN = 3
    """Nothing trustworthy to say: invalid config or usage, an unreadable or unconfigured
    source, no rules, no terminal for the dashboard, or a crash."""
