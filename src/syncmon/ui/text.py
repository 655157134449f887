"""Turning untrusted data into display-safe `rich.text.Text`, and small display formats.

Every string that came from outside (database rows, HTTP bodies, conflict documents, user
input) goes through `safe`: control characters are replaced (no data can retitle or clear
the terminal) and the result is a `Text`, which Textual never parses as markup (so
`[@click=app.quit]` stays literal text instead of becoming an action).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from syncmon.config.redaction import redact
from syncmon.core.durations import format_duration
from syncmon.core.text import sanitize
from syncmon.core.timefmt import offset_clock, time_of_day


def clean(value: object, *, single_line: bool = True, limit: int | None = None) -> str:
    """A plain string with controls replaced and secrets redacted."""
    return sanitize(redact(str(value)), single_line=single_line, limit=limit)


def safe(
    value: object, style: str = "", *, single_line: bool = True, limit: int | None = None
) -> Text:
    """Untrusted text as a literal `Text` (never markup)."""
    return Text(clean(value, single_line=single_line, limit=limit), style=style)


def json_text(value: Any, *, limit: int | None = 200) -> str:
    """A JSON value on one line, as shown in the conflict diff (safe to display)."""
    if value is None:
        return "—"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return sanitize(text, single_line=True, limit=limit)


def age(delta: timedelta | float | None) -> str:
    """`4s`, `3m20s`; never negative (clock skew shows as 0s)."""
    if delta is None:
        return "never"
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    whole = max(0, int(seconds))
    return f"{whole}s" if whole < 60 else format_duration(whole)


def clock(moment: datetime | None) -> str:
    """Local wall-clock time of a moment, with its offset so a post-mortem is unambiguous."""
    return "—" if moment is None else offset_clock(moment)


def short_time(moment: datetime | None) -> str:
    return "—" if moment is None else time_of_day(moment)


def window_label(window: timedelta) -> str:
    """`5m`, `1h`, `24h`: windows as the `w` key names them (not `1d`)."""
    seconds = int(window.total_seconds())
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return format_duration(seconds)


def coarse_age(delta: timedelta) -> str:
    """`<1m`, `12m`, `3h05m`, `2d04h`: an age that changes at most once a minute, so a panel
    showing it is not redrawn on every poll."""
    minutes = max(0, int(delta.total_seconds()) // 60)
    if minutes < 1:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def matches(text: str, *fields: str) -> bool:
    """`/` matching: every word of `text` in some field, case-insensitive."""
    haystack = " ".join(fields).casefold()
    return all(word in haystack for word in text.casefold().split())
