"""Hours of plausible past traffic, loaded in seconds with `COPY`.

The seed's `timestamp` columns are `TIMESTAMP WITHOUT TIME ZONE` written by `NOW()` in the
writer's session zone. Rather than guess that zone in Python (DST, zone names Python does
not know), rows are copied with `timestamptz` instants into temporary tables and converted
by PostgreSQL itself (`::timestamp` uses the session `TimeZone`), exactly as `NOW()` would
have stored them.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from syncmon.demo import fake_data as fd
from syncmon.demo.incidents import PAST_INCIDENTS, Kind
from syncmon.demo.workload import Profile, Workload, operations_per_minute

log = logging.getLogger(__name__)


@dataclass
class HistoryBatch:
    """Rows for the three tables, each ending with its `timestamptz` instant."""

    operations: list[tuple[object, ...]] = field(default_factory=list)
    readings: list[tuple[object, ...]] = field(default_factory=list)
    resolutions: list[tuple[object, ...]] = field(default_factory=list)


def past_kinds(minutes_before_start: float) -> frozenset[Kind]:
    """The past incidents under way this many minutes before the demo started."""
    return frozenset(
        p.kind
        for p in PAST_INCIDENTS
        if p.hours_ago * 60 - p.duration_min < minutes_before_start <= p.hours_ago * 60
    )


def generate_history(
    workload: Workload, *, end: datetime, hours: float, utc_offset: timedelta
) -> HistoryBatch:
    """Rows for the `hours` before `end` (aware); `utc_offset` only shapes the daily rhythm."""
    rng, batch = workload.rng, HistoryBatch()
    minutes = int(hours * 60)
    for back in range(minutes, 0, -1):
        minute_start = end - timedelta(minutes=back)
        kinds = past_kinds(back)
        profile = Profile.for_incidents(kinds)
        local = minute_start + utc_offset
        rate = operations_per_minute(local.hour + local.minute / 60)

        def stamp(rng: random.Random = rng, start: datetime = minute_start) -> datetime:
            return start + timedelta(seconds=rng.random() * 60)

        for op in workload.operations(profile, fd.poisson(rng, rate)):
            batch.operations.append((*op, stamp()))
        for reading in workload.health_readings(fd.poisson(rng, rate / 14), stressed=bool(kinds)):
            batch.readings.append((*reading, stamp()))
        conflicts = fd.poisson(rng, profile.conflicts_per_min * rate / 105)
        for resolution in workload.resolutions(profile, conflicts):
            batch.resolutions.append((*resolution, stamp()))
    return batch


_STAGING = """
CREATE TEMP TABLE demo_ops (user_id uuid, operation_type text, duration_ms int,
    success bool, error_message text, ts timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE demo_readings (user_id uuid, sync_session_id uuid, metric_type text,
    metric_value jsonb, ts timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE demo_resolutions (user_id uuid, conflict_id uuid, resolution_type text,
    resolution_data jsonb, auto_resolved bool, ts timestamptz) ON COMMIT DROP;
"""

_MOVE = """
INSERT INTO sync_performance_metrics
    (user_id, operation_type, duration_ms, success, error_message, timestamp)
SELECT user_id, operation_type, duration_ms, success, error_message, ts::timestamp
FROM demo_ops;
INSERT INTO sync_health_metrics
    (user_id, sync_session_id, metric_type, metric_value, timestamp, created_at)
SELECT user_id, sync_session_id, metric_type, metric_value, ts::timestamp, ts::timestamp
FROM demo_readings;
INSERT INTO conflict_resolution_history
    (user_id, conflict_id, resolution_type, resolution_data, auto_resolved, timestamp)
SELECT user_id, conflict_id, resolution_type, resolution_data, auto_resolved, ts::timestamp
FROM demo_resolutions;
"""


async def load_history(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
    workload: Workload,
    *,
    hours: float,
) -> HistoryBatch:
    """Write `hours` of history ending at the database's `now()`; returns what was written."""
    row = await conn.fetchrow("SELECT now(), localtimestamp")
    assert row is not None
    now, local_now = row
    offset = timedelta(minutes=round((local_now - now.replace(tzinfo=None)).total_seconds() / 60))
    batch = generate_history(workload, end=now, hours=hours, utc_offset=offset)
    async with conn.transaction():
        await conn.execute(_STAGING)
        await conn.copy_records_to_table("demo_ops", records=batch.operations)
        await conn.copy_records_to_table("demo_readings", records=batch.readings)
        await conn.copy_records_to_table("demo_resolutions", records=batch.resolutions)
        await conn.execute(_MOVE)
    log.info(
        "history: %d operations, %d health readings, %d conflict resolutions over %g h",
        len(batch.operations),
        len(batch.readings),
        len(batch.resolutions),
        hours,
    )
    return batch
