"""The one place syncmon reads the wall clock.

Everything else is told the time: pure code takes `now` as a parameter, objects that need
the time take a `clock` (a front end passes `wall_clock`; tests and `syncmon test` pass a
fixed or simulated one). Elapsed time is measured with `time.monotonic()`, not with this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current moment, timezone-aware in UTC."""


def wall_clock() -> datetime:
    """Now, in UTC: the real clock, for the objects a front end builds."""
    return datetime.now(UTC)
