"""A case's series as rows of the seed's three tables, written with COPY.

Interval i is [t0 + i·interval, t0 + (i+1)·interval). Its n rows sit evenly inside it, each
in the middle of its share (never on a boundary, so a window that ends on one takes whole
intervals), and the failures (or auto-resolved conflicts) among them are spread evenly
too: 6 failures in 30 rows are every fifth row, not the first six. Timestamps are written
in UTC and read as UTC (`timestamp_timezone: UTC`), whatever the server's zone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from syncmon.ruletest.cases import Case

PERFORMANCE_COLUMNS = (
    "user_id",
    "operation_type",
    "duration_ms",
    "success",
    "error_message",
    "timestamp",
)
CONFLICT_COLUMNS = (
    "user_id",
    "conflict_id",
    "resolution_type",
    "resolution_data",
    "auto_resolved",
    "timestamp",
)
HEALTH_COLUMNS = ("user_id", "sync_session_id", "metric_type", "metric_value", "timestamp")

Record = tuple[Any, ...]


def spread(start: datetime, interval: timedelta, count: int) -> list[datetime]:
    """`count` moments evenly inside [start, start + interval), each mid-way in its share."""
    return [start + interval * ((j + 0.5) / count) for j in range(count)]


def marked(j: int, part: int, count: int) -> bool:
    """Whether row j of `count` is one of `part` rows spread evenly among them."""
    return (j + 1) * part // count > j * part // count


def _rows(
    case: Case, origin: datetime, counts: tuple[int, ...]
) -> Iterator[tuple[int, int, datetime]]:
    """(interval, row in interval, naive UTC timestamp) for every row of one input."""
    for i, count in enumerate(counts):
        start = origin + case.interval * i
        for j, moment in enumerate(spread(start, case.interval, count)):
            yield i, j, moment.astimezone(UTC).replace(tzinfo=None)


def performance_records(case: Case, origin: datetime) -> list[Record]:
    records: list[Record] = []
    for k, item in enumerate(case.performance):
        user = uuid.UUID(int=k + 1)
        for i, j, at in _rows(case, origin, item.counts):
            failed = marked(j, item.failures[i], item.counts[i])
            message = item.error_message if failed else None
            records.append((user, item.operation_type, item.durations[i], not failed, message, at))
    return records


def conflict_records(case: Case, origin: datetime) -> list[Record]:
    records: list[Record] = []
    serial = 0
    for k, item in enumerate(case.conflicts):
        user = uuid.UUID(int=k + 1)
        for i, j, at in _rows(case, origin, item.counts):
            serial += 1
            auto = marked(j, item.auto_resolved[i], item.counts[i])
            records.append((user, uuid.UUID(int=serial), item.resolution_type, "{}", auto, at))
    return records


def health_records(case: Case, origin: datetime) -> list[Record]:
    records: list[Record] = []
    for k, item in enumerate(case.health):
        user = uuid.UUID(int=k + 1)
        for i, _j, at in _rows(case, origin, item.counts):
            value = item.values[i]
            assert value is not None  # parse: no `_` where an interval has readings
            reading = int(value) if value.is_integer() else value
            records.append((user, user, item.metric_type, json.dumps(reading), at))
    return records


async def write_case(dsn: str, case: Case, origin: datetime) -> int:
    """Write every row of `case`; returns how many."""
    tables = (
        ("sync_performance_metrics", PERFORMANCE_COLUMNS, performance_records(case, origin)),
        ("conflict_resolution_history", CONFLICT_COLUMNS, conflict_records(case, origin)),
        ("sync_health_metrics", HEALTH_COLUMNS, health_records(case, origin)),
    )
    conn = await asyncpg.connect(dsn)
    try:
        for table, columns, records in tables:
            if records:
                await conn.copy_records_to_table(table, records=records, columns=list(columns))
    finally:
        await conn.close()
    return sum(len(records) for _, _, records in tables)
