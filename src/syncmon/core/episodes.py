"""Since when, and which alert (SPEC §4.1): the two facts every pending or firing alert
carries, and that every process watching the same database must agree on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from syncmon.core.durations import format_duration
from syncmon.core.rules import AlertRule
from syncmon.core.timefmt import day_clock, iso_utc


@dataclass(frozen=True)
class Since:
    """When a rule's condition started to hold.

    `bounded`: it held for the whole lookback, so it started at `at` or earlier.
    `seen`: first seen by this process (endpoint rules have no history), not found.
    `grid`: the grid point the history search found when it lay after the evaluation (an
    episode's first step) and `at` was clamped to the evaluation time: the episode id
    still comes from it, so processes that evaluated at different moments agree (§4.1).
    """

    at: datetime
    bounded: bool = False
    seen: bool = False
    grid: datetime | None = None

    @property
    def identity(self) -> datetime:
        """The moment the episode id is computed from: the same in every process."""
        return self.grid or self.at

    def at_most(self, evaluated_at: datetime) -> Since:
        """This since, never after `evaluated_at` (SPEC §15: a since never lies after the
        evaluation). A later one is the next grid point of an episode's first step: report
        the evaluation that first saw it hold, keep the grid point for the id."""
        if self.at <= evaluated_at:
            return self
        return Since(evaluated_at, self.bounded, self.seen, grid=self.identity)


def episode_id(rule: AlertRule, since: datetime) -> str:
    """A stable identity of one firing episode: a hash of what identifies the alert (its
    labels include the alert's own, `endpoint`) and when it started, so two watchers, or one
    restarted, give the same id for the same episode."""
    identity = [
        rule.name,
        rule.severity.value,
        sorted(rule.all_labels.items()),
        iso_utc(since, ms=False),
    ]
    digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def since_age(since: Since, now: datetime) -> str:
    """How long it has held, as an on-call engineer reads it: `40m`, `≥ 24h`, `just now`."""
    age = now - since.at
    if age.total_seconds() < 1:
        return "just now"
    text = format_duration(timedelta(seconds=round(age.total_seconds())))
    return f"≥ {text}" if since.bounded else text


def since_clock(since: Since, now: datetime, *, tz: tzinfo | None = None) -> str:
    """`02:32:00` in the reader's zone, with the date when it is not the reader's today."""
    return day_clock(since.at, now, tz=tz)


def since_text(since: Since, now: datetime, *, tz: tzinfo | None = None) -> str:
    """`02:32:00 (40m ago)`, in the reader's zone; `first seen` when not found."""
    clock = since_clock(since, now, tz=tz)
    age = since_age(since, now)
    text = f"{clock} ({age})" if age == "just now" else f"{clock} ({age} ago)"
    return f"{text}, first seen" if since.seen else text
