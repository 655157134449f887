"""Durations (`30s`, `5m`, `1h`) and points in time (`-2h`, RFC 3339) as users write them."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from syncmon.core.timefmt import parse_iso

_PART = r"(\d+(?:\.\d+)?)(ms|s|m|h|d)"
_DURATION = re.compile(rf"^\s*(?:{_PART})+\s*$")
DURATION_PATTERN = _DURATION.pattern  # also valid JSON Schema (ECMA 262): `syncmon schema`
_PARTS = re.compile(_PART)
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# No duration syncmon uses comes near a year; the cap keeps every one a valid timedelta
# (`99999999999999999999d` used to overflow it) and every sum of them finite.
MAX_DURATION = timedelta(days=365)


class DurationError(ValueError):
    """A duration or time that cannot be understood; the message says why."""


def parse_duration(text: str) -> timedelta:
    """Parse `<number><unit>` with unit ms, s, m, h or d (e.g. `5m`, `1.5s`, also `2h30m`).

    At most `MAX_DURATION`; raises DurationError (a ValueError) for anything else.
    """
    if not isinstance(text, str) or _DURATION.match(text) is None:
        shown = text[:40] + "…" if isinstance(text, str) and len(text) > 40 else text
        raise DurationError(
            f"invalid duration {shown!r}: expected a number and a unit (ms, s, m, h, d), e.g. 5m"
        )
    seconds = sum(float(number) * _SECONDS_PER_UNIT[unit] for number, unit in _PARTS.findall(text))
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:40] + "…"
        raise DurationError(f"duration {shown!r} is too long: at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


def elapsed_text(elapsed: float, budget: float) -> str:
    """How long something took before it was given up on, for messages: the budget when it
    ran out (a timer fires a little late), else the real time — "timed out connecting after
    6s" printed at 5.3s (a shorter inner timeout fired first) would send the reader astray."""
    if elapsed >= budget - 0.05:
        return f"{round(budget, 1):g}s"  # a budget left over after queueing: 0.499944 is 0.5
    return f"{elapsed:.1f}s"


def format_duration(value: timedelta | float) -> str:
    """Compact human form: 45s, 5m, 1h30m, 2d3h."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds == int(seconds) or seconds >= 10 else f"{seconds:.1f}s"
    parts: list[str] = []
    remaining = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            amount, remaining = divmod(remaining, size)
            parts.append(f"{amount}{unit}")
        if len(parts) == 2:
            break
    return "".join(parts)


def parse_time_point(text: str, *, now: datetime) -> datetime:
    """Parse `--at`: RFC 3339 with offset, `now`, or relative like `-2h` / `-90m`.

    `now` is the caller's clock: the core never reads the wall clock.
    """
    stripped = text.strip()
    if stripped == "now":
        return now
    if stripped.startswith("-"):
        try:
            return now - parse_duration(stripped[1:])
        except DurationError:
            raise DurationError(
                f"invalid time {text!r}: a relative time is a minus sign and a duration, e.g. -2h"
            ) from None
    try:
        moment = parse_iso(stripped)
    except ValueError:
        raise DurationError(
            f"invalid time {text!r}: use RFC 3339 (2026-11-27T03:12:00+01:00) or a relative "
            "time such as -2h"
        ) from None
    if moment.tzinfo is None:
        raise DurationError(
            f"invalid time {text!r}: give a UTC offset (e.g. +00:00 or Z) so the moment is exact"
        )
    if moment > now + timedelta(seconds=5):
        raise DurationError(f"invalid time {text!r}: it is in the future")
    return moment
