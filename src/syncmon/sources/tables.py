"""The three metrics tables as a registry: each one's statements and the readers of its rows.

Adding a table means one entry here (and its SQL in sql.py); `MetricsDatabase` runs every
entry the same way, each in its own bounded transaction, so one slow table delays only itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from syncmon.core.history import ConflictStep, HealthStep, PerformanceStep, StepHistory
from syncmon.core.metrics import (
    ConflictAggregates,
    HealthReading,
    PerformanceAggregates,
    Source,
)
from syncmon.sources import sql, sql_past
from syncmon.sources.queries import Interval, MetricsQuery

Row = asyncpg.Record
BucketToUtc = Callable[[int], int]  # a local bucket index -> the UTC bucket index


@dataclass(frozen=True)
class PerformanceReading:
    windows: dict[Interval, PerformanceAggregates]
    series: dict[int, PerformanceAggregates] = field(default_factory=dict)
    top_errors: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class ConflictReading:
    windows: dict[Interval, ConflictAggregates]
    series: dict[int, ConflictAggregates] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthTableReading:
    windows: dict[Interval, list[HealthReading]]


TableReading = PerformanceReading | ConflictReading | HealthTableReading


@dataclass(frozen=True)
class Table:
    """How one table is asked and read."""

    source: Source
    statement: Callable[[sql.Shape], sql.Statement]
    read: Callable[[Sequence[Row], MetricsQuery], TableReading]
    history_statement: Callable[[sql_past.HistoryShape], sql.Statement]
    read_history: Callable[[Sequence[Row], BucketToUtc, StepHistory], None]


def _json(value: Any) -> list[Any]:
    return json.loads(value) if value else []


def _in_series(index: int, query: MetricsQuery) -> bool:
    return query.series is not None and 0 <= index < query.series.count


# ---- sync_performance_metrics ------------------------------------------------------------


def _read_performance(rows: Sequence[Row], query: MetricsQuery) -> PerformanceReading:
    row = rows[0]
    columns = ("sync_total", "sync_failed", "plaid_total", "plaid_failed")
    windows = {
        interval: PerformanceAggregates(
            sync_total=total,
            sync_failed=failed,
            plaid_total=plaid,
            plaid_failed=plaid_failed,
            sync_avg_ms=total_ms / total if total and total_ms is not None else None,
            sync_p95_ms=p95,
            sync_sum_ms=total_ms,
        )
        for interval, total, failed, plaid, plaid_failed, total_ms, p95 in zip(
            query.intervals,
            *(row[c] for c in columns),
            row["sync_sum_ms"],
            row["sync_p95_ms"],
            strict=True,
        )
    }
    series = {}
    if query.series and "buckets" in row:
        series = {
            index: PerformanceAggregates(*values)
            for index, *values in _json(row["buckets"])
            if _in_series(index, query)
        }
    top = [(m, n) for m, n in _json(row["top_errors"])] if "top_errors" in row else []
    return PerformanceReading(windows, series, top)


def _read_performance_history(rows: Sequence[Row], utc: BucketToUtc, into: StepHistory) -> None:
    for row in rows:
        histogram = {int(b): int(n) for b, n in _json(row["hist"])}
        into.performance[utc(row["k"])] = PerformanceStep(
            row["st"], row["sf"], row["pt"], row["pf"], row["ssum"], histogram
        )


# ---- conflict_resolution_history ---------------------------------------------------------


def _read_conflicts(rows: Sequence[Row], query: MetricsQuery) -> ConflictReading:
    row = rows[0]
    windows = {
        interval: ConflictAggregates(total, auto)
        for interval, total, auto in zip(
            query.intervals, row["total"], row["auto_resolved"], strict=True
        )
    }
    series = {}
    if query.series and "buckets" in row:
        series = {
            index: ConflictAggregates(total, auto)
            for index, total, auto in _json(row["buckets"])
            if _in_series(index, query)
        }
    return ConflictReading(windows, series)


def _read_conflicts_history(rows: Sequence[Row], utc: BucketToUtc, into: StepHistory) -> None:
    for row in rows:
        into.conflicts[utc(row["k"])] = ConflictStep(row["total"], row["auto_resolved"])


# ---- sync_health_metrics -----------------------------------------------------------------


def _read_health(rows: Sequence[Row], query: MetricsQuery) -> HealthTableReading:
    windows: dict[Interval, list[HealthReading]] = {i: [] for i in query.intervals}
    for row in sorted(rows, key=lambda r: str(r["metric_type"])):
        if row["metric_type"] is None:  # no reading at all, only the newest-row probe
            continue
        for interval, samples, mean in zip(
            query.intervals, row["numeric_samples"], row["mean"], strict=True
        ):
            windows[interval].append(
                HealthReading(row["metric_type"], samples, mean, row["latest"])
            )
    return HealthTableReading(windows)


def _read_health_history(rows: Sequence[Row], utc: BucketToUtc, into: StepHistory) -> None:
    for row in rows:
        step: HealthStep = into.health.setdefault(utc(row["k"]), {})
        step[row["metric_type"]] = (row["n"], row["total"])


TABLES: dict[Source, Table] = {
    table.source: table
    for table in (
        Table(
            Source.PERFORMANCE,
            sql.performance,
            _read_performance,
            sql_past.history_performance,
            _read_performance_history,
        ),
        Table(
            Source.CONFLICTS,
            sql.conflicts,
            _read_conflicts,
            sql_past.history_conflicts,
            _read_conflicts_history,
        ),
        Table(
            Source.HEALTH_TABLE,
            sql.health,
            _read_health,
            sql_past.history_health,
            _read_health_history,
        ),
    )
}
