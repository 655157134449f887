"""A rule's past, read from the metrics tables: the timeline's episodes, and for one episode
the points of its chart and what changed at since (SPEC §17).

Both read per-bucket aggregates with the since search's statements (`sources/sql.py`
`history_*`) and walk them in `core/timeline.py`, so an episode starts where since says.
"What changed" is one more read-only statement on the performance table. Every statement
runs under the session's server-side `statement_timeout`; failures come back as reasons.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from syncmon.core.history import (
    bucket_seconds,
    grid_step,
    health_types,
    needs_histogram,
    window_seconds,
)
from syncmon.core.metrics import Source
from syncmon.core.rules import AlertRule
from syncmon.core.timeline import Episode, Point, episodes, walk, walk_many
from syncmon.sources import sql, sql_past
from syncmon.sources.database import MetricsDatabase
from syncmon.sources.queries import HistoryQuery, Interval
from syncmon.sources.tables import Row
from syncmon.sources.writer_clock import WriterClock

CHANGES_LIMIT = 12
CHART_POINTS = 240


@dataclass(frozen=True)
class Change:
    """One error message or operation type: rows before the episode and during it.

    `key` is stored text (untrusted: shown literally, never as markup).
    """

    key: str
    before: int
    during: int
    failed_before: int = 0
    failed_during: int = 0

    @property
    def new(self) -> bool:
        """Absent from the stretch before the episode: the likeliest cause."""
        return self.before == 0 and self.during > 0


@dataclass(frozen=True)
class WhatChanged:
    before: Interval
    during: Interval
    messages: tuple[Change, ...] = ()
    operations: tuple[Change, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class EpisodeContext:
    """What the detail screen reads about one episode: its chart and what changed."""

    points: tuple[Point, ...] = ()
    changes: WhatChanged | None = None
    error: str | None = None  # the chart's history could not be read


@dataclass
class Timeline:
    """Every rule's episodes in [start, end]; rules whose history failed map to a reason."""

    start: datetime
    end: datetime
    episodes: list[Episode] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unavailable: str | None = None  # no history can be read here at all (a `--from` viewer)


def _utc(moment: datetime) -> datetime:
    """A bound as the statements compare a row's instant: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _history_query(
    rules: list[AlertRule], start: datetime, end: datetime, step: int | None = None
) -> HistoryQuery:
    bucket = bucket_seconds(rules) if step is None else math.gcd(step, bucket_seconds(rules))
    widest = max(window_seconds(r) for r in rules)
    lo = math.floor((start.timestamp() - widest) / bucket) * bucket
    hi = math.floor(end.timestamp() / bucket) * bucket
    return HistoryQuery(
        tables=frozenset(s for r in rules for s in r.sources if s.has_history),
        start=datetime.fromtimestamp(lo, UTC),
        end=datetime.fromtimestamp(max(hi, lo + bucket), UTC),
        bucket=bucket,
        histogram=needs_histogram(rules),
        health_types=health_types(rules),
    )


async def read_timeline(
    database: MetricsDatabase,
    rules: list[AlertRule],
    start: datetime,
    end: datetime,
    *,
    timeout: float,
) -> Timeline:
    """Episodes of the rules over the database in [start, end]: one statement per table."""
    timeline = Timeline(start, end)
    rules = [r for r in rules if r.has_history]
    if not rules:
        return timeline
    result = await database.fetch_history(_history_query(rules, start, end), timeout=timeout)
    readable: list[AlertRule] = []
    for rule in rules:
        failures = [result.failed[s] for s in sorted(rule.sources) if s in result.failed]
        if failures:
            timeline.failed[rule.name] = "; ".join(failures)
        else:
            readable.append(rule)
    points = walk_many(readable, result.history, start, end)
    for rule in readable:
        timeline.episodes += episodes(rule, points[rule.name])
    timeline.episodes.sort(key=lambda e: e.start, reverse=True)
    return timeline


def stretches(
    rule: AlertRule, since: datetime, end: datetime, lookback: timedelta
) -> tuple[datetime, datetime]:
    """(lo, mid): "during" is [mid, end), "before" the equal stretch [lo, mid).

    `mid` is since less the rule's window: the first point that held was computed from the
    rows of the window before it, so the rows that made the alert fire begin there, and a
    message that started the incident is not counted "before" by the window's lag.
    """
    mid = since - rule.window
    length = min(max(end - mid, timedelta(minutes=1)), lookback)
    return mid - length, mid


async def read_changes(
    database: MetricsDatabase, lo: datetime, since: datetime, end: datetime, *, timeout: float
) -> WhatChanged:
    """Error messages and operation types of [since, end) against [lo, since)."""
    before, during = Interval(lo, since), Interval(since, end)

    def statement(clock: WriterClock) -> sql.Statement:
        shape = sql_past.ChangesShape(
            _utc(lo), _utc(since), _utc(end), CHANGES_LIMIT, database.schema, clock
        )
        return sql_past.changes_performance(shape)

    rows = await database.read(Source.PERFORMANCE, (lo, end), statement, timeout=timeout)
    if isinstance(rows, str):
        return WhatChanged(before, during, error=rows)
    return WhatChanged(before, during, *_changes(rows))


def _changes(rows: Sequence[Row]) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    messages: list[Change] = []
    operations: list[Change] = []
    for row in rows:
        change = Change(
            str(row["key"]),
            int(row["before"]),
            int(row["during_n"]),
            int(row["failed_before"]),
            int(row["failed_during"]),
        )
        (messages if row["kind"] == "message" else operations).append(change)
    return tuple(messages), tuple(operations)


async def read_episode(
    database: MetricsDatabase,
    rule: AlertRule,
    since: datetime,
    end: datetime,
    lookback: timedelta,
    *,
    timeout: float,
) -> EpisodeContext:
    """The rule's points over the episode and the equal stretch before it, and what changed.
    The two reads run at once (different tables' connections where they can)."""
    start, mid = stretches(rule, since, end, lookback)
    step = chart_step(rule, end - start)
    query = _history_query([rule], start, end, step)
    history, changes = await asyncio.gather(
        database.fetch_history(query, timeout=timeout),
        read_changes(database, start, mid, end, timeout=timeout),
    )
    failures = [history.failed[s] for s in sorted(rule.sources) if s in history.failed]
    if failures:
        return EpisodeContext((), changes, "; ".join(failures))
    return EpisodeContext(tuple(walk(rule, history.history, start, end, step)), changes)


def chart_step(rule: AlertRule, span: timedelta) -> int:
    """A grid for the chart of `span`: the rule's own up to `CHART_POINTS` points, else a
    multiple of it (or of the window, for long spans, so buckets stay wide: one a point)."""
    step, window = grid_step(rule), window_seconds(rule)
    wanted = span.total_seconds() / CHART_POINTS
    if wanted <= step:
        return step
    unit = window if wanted > window and window % step == 0 else step
    return math.ceil(wanted / unit) * unit
