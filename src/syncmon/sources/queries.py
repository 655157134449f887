"""What the engine asks of the metrics tables: windows for a poll, buckets for a history search."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from syncmon.core.metrics import TABLE_SOURCES, Source


@dataclass(frozen=True)
class Interval:
    """[start, end) in absolute time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Series:
    """`count` equal buckets of `step` from `start`, for charts."""

    start: datetime
    step: timedelta
    count: int

    @property
    def end(self) -> datetime:
        return self.start + self.step * self.count


@dataclass(frozen=True)
class MetricsQuery:
    """One poll: aggregates over each interval, and the dashboard's extras."""

    intervals: tuple[Interval, ...]
    tables: frozenset[Source] = frozenset(TABLE_SOURCES)
    series: Series | None = None
    top_errors: int = 0
    top_errors_since: datetime | None = None
    user_id: uuid.UUID | None = None
    live: bool = False  # windows end now: rows stamped later than now are clock skew

    def shifted(self, delta: timedelta) -> MetricsQuery:
        """The same question asked `delta` later (windows read in a skewed writers' clock)."""
        series = self.series
        return replace(
            self,
            intervals=tuple(Interval(i.start + delta, i.end + delta) for i in self.intervals),
            series=replace(series, start=series.start + delta) if series else None,
            top_errors_since=self.top_errors_since + delta if self.top_errors_since else None,
        )

    def bounds(self) -> tuple[datetime, datetime]:
        starts = [i.start for i in self.intervals]
        ends = [i.end for i in self.intervals]
        if self.series:
            starts.append(self.series.start)
            ends.append(self.series.end)
        if self.top_errors_since:
            starts.append(self.top_errors_since)
        return min(starts), max(ends)


@dataclass(frozen=True)
class HistoryQuery:
    """Per-bucket aggregates of [start, end) for a since search (core/history.py).

    `start` and `end` are multiples of `bucket` seconds since the epoch.
    """

    tables: frozenset[Source]
    start: datetime
    end: datetime
    bucket: int
    histogram: bool = False  # duration histograms, for p95 rules
    p95_splits: tuple[int, ...] = ()  # where the histogram's bins are split (core/history.py)
    health_types: tuple[str, ...] = ()
