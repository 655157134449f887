"""Moments as people and programs read them: one place for clock times, ISO 8601 output and
parsing, so every front end tells the same moment the same way.

Pure: the reader's zone is a parameter (`tz`, the process's local zone when None) and "now"
is always passed in, never read from the wall clock here.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def to_reader(moment: datetime, tz: tzinfo | None = None) -> datetime:
    """The moment in the reader's zone (the process's local zone when `tz` is None)."""
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def day_clock(moment: datetime, now: datetime, *, tz: tzinfo | None = None) -> str:
    """`02:32:00` when the moment falls on the reader's today, `2026-11-30 02:32:00` otherwise.

    "Today" is judged in the reader's zone, for both moments: an incident that began at
    23:50 in Tokyo is yesterday there at 00:10 even if it is the same day in UTC.
    """
    local, today = to_reader(moment, tz), to_reader(now, tz)
    if local.date() != today.date():
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%H:%M:%S")


def minute_clock(moment: datetime, now: datetime, *, tz: tzinfo | None = None) -> str:
    """`03:02` today, `11-26 03:02` another day (reader's zone): for narrow columns."""
    local, today = to_reader(moment, tz), to_reader(now, tz)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M")


def offset_clock(moment: datetime, *, tz: tzinfo | None = None) -> str:
    """`2026-11-30 02:32:00 +0900`: unambiguous for a post-mortem."""
    return to_reader(moment, tz).strftime("%Y-%m-%d %H:%M:%S %z")


def minute_with_offset(moment: datetime, *, tz: tzinfo | None = None) -> str:
    """`11-27 03:12 +0000`: a span's ends and the `--at` badge, short yet unambiguous."""
    return to_reader(moment, tz).strftime("%m-%d %H:%M %z")


def time_of_day(moment: datetime, *, tz: tzinfo | None = None) -> str:
    """`02:32:00` in the reader's zone."""
    return to_reader(moment, tz).strftime("%H:%M:%S")


def iso_local(moment: datetime, *, tz: tzinfo | None = None) -> str:
    """RFC 3339 with the reader's offset, to the second (`check --format json`)."""
    return to_reader(moment, tz).isoformat(timespec="seconds")


def iso_utc(moment: datetime, *, ms: bool = True, z: bool = False) -> str:
    """RFC 3339 in UTC (`…+00:00`, or `…Z` with `z=True`), for machines."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds" if ms else "seconds")
    return text.replace("+00:00", "Z") if z else text


def parse_iso(text: str) -> datetime:
    """RFC 3339 as others send it (`Z` or `z` for UTC). The result is naive when the text had
    no offset: each caller says what that means for it. Raises ValueError otherwise."""
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
